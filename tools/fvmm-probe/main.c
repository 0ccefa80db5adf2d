// SPDX-License-Identifier: MIT
/*
 * fvmm-probe: measure a guest's network outage from a peer.
 *
 * Sends UDP datagrams (payload.h) at a fixed rate to an echo service, records
 * every reply (stats.h) and reports loss, RTT, loss bursts and the longest
 * silence (report.h).  See tools/fvmm-probe/README.md.
 *
 * One thread, one non-blocking socket.  Why not a sender and a receiver
 * thread:
 *  - the hosts this runs on have two cores, and the other one is needed by
 *    the thing being measured (the VMM's vCPU and I/O threads, or the echo
 *    server); two busy probe threads would fight it and each other;
 *  - the per-sequence table is touched by send and receive alike; with one
 *    thread it needs no atomics or locks and the statistics module stays
 *    plain, testable code;
 *  - a receive is never delayed by more than one send: the loop drains the
 *    socket after every send and, while waiting for the next deadline,
 *    either sleeps in ppoll() on the socket (woken by replies) or, for the
 *    last few microseconds, spins on a non-blocking recvmmsg + clock read.
 * Timing: deadlines are absolute, t0 + seq / rate on CLOCK_MONOTONIC, so
 * errors never accumulate; the timer slack is set to 1 ns so ppoll wakes on
 * time; a sender that fell behind catches up with sendmmsg batches and the
 * lateness is reported.  The spin margin adapts to how late ppoll actually
 * wakes up (it tracks the recent worst case, decaying by 1/64 per send,
 * within SPIN_MIN_NS..SPIN_MAX_NS): ppoll oversleeps by 7 us (median) to
 * 20 us (p99) on the development host, so at 20,000 pps the probe sleeps
 * part of each 50 us interval instead of burning the core the VM under test
 * needs (about 40% less CPU than spinning through every interval, at the
 * same send accuracy in our measurements).
 *
 * Receive times are the kernel's (SO_TIMESTAMPNS, on CLOCK_REALTIME, mapped
 * to CLOCK_MONOTONIC by an offset sampled at every read and clamped to
 * [send time, read time] so a clock step cannot do harm): a probe that was
 * descheduled for a few ms, or read a batch of replies at once, does not
 * report that as RTT or as a gap.  Without kernel stamps the read time is
 * used.
 *
 * The socket is not connect()ed: on a connected UDP socket an ICMP port
 * unreachable (echo service down) makes the next send fail with
 * ECONNREFUSED and drops that datagram.  Replies are filtered by source
 * address instead.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "payload.h"
#include "report.h"
#include "stats.h"

#ifndef FVMM_VERSION
#define FVMM_VERSION "unknown"
#endif

#define DEFAULT_PORT	7
#define MIN_RATE	0.1
#define MAX_RATE	1e6
#define MAX_COUNT	10000000ull	/* 9 bytes of state per datagram */
#define MAX_SCHEDULE_S	3600.0		/* send_us is u32 microseconds */
#define OVERRUN_S	600		/* hard stop: schedule + this; with
					 * MAX_SCHEDULE_S < 2^32 us (stats.h) */
#define MAX_WAIT_MS	60000.0
#define MAX_BURSTS	100000ull
#define BATCH		64		/* sendmmsg / recvmmsg vector */
#define SPIN_MIN_NS	5000		/* adaptive busy-wait margin */
#define SPIN_MAX_NS	200000
#define SPIN_SLACK_NS	3000		/* added to the observed oversleep */
#define RX_CALLS_SENDING 8		/* recvmmsg calls per pass while sending */
#define RX_CALLS_WAITING 1024
#define SOCK_BUF	(4 << 20)
#define NSEC		1000000000ll

struct opts {
	double rate;
	double duration;
	bool has_duration;
	uint64_t count;
	bool has_count;
	uint64_t size;
	double wait_ms;
	uint64_t bursts_max;
	bool quiet;
	double interval_ms;
	const char *bind;
	const char *json;
	const char *csv;
	const char *target;
	bool has_max_loss;
	uint64_t max_loss;
	bool has_max_gap;
	double max_gap_ms;
};

struct prober {
	int fd;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint32_t run_id;
	uint64_t size;
	uint64_t count;
	double interval_d;		/* ns per datagram */
	int64_t t0;			/* scheduled send of seq 0 */
	int64_t t0_real;		/* the same on CLOCK_REALTIME */
	int64_t hard_stop;		/* absolute: sending ends here at most */
	int64_t wait_ns;
	struct probe_stats st;
	uint64_t next;			/* next seq to send */
	int64_t first_send, last_send;	/* absolute */
	double late_sum_ns;
	int64_t late_max_ns;
	uint64_t send_errors;
	uint32_t rx_drops;		/* SO_RXQ_OVFL: our socket's drops */
	bool tx_blocked;
	bool overrun;
	int64_t spin_ns;		/* current busy-wait margin */
	/* progress lines */
	int64_t progress_ns;
	int64_t next_progress;
	uint64_t progress_recv;
	FILE *progress_out;
	/* I/O vectors */
	uint8_t *sbuf, *rbuf;
	struct mmsghdr smsg[BATCH], rmsg[BATCH];
	struct iovec siov[BATCH], riov[BATCH];
	struct sockaddr_storage raddr[BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec)) +
			 CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} rctl[BATCH];
};

static volatile sig_atomic_t stop_requests;

static void on_signal(int sig)
{
	stop_requests++;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC + ts->tv_nsec;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC now, to map SO_TIMESTAMPNS stamps. */
static int64_t real_minus_mono(void)
{
	struct timespec r;
	int64_t m1, m2;

	m1 = mono_ns();
	clock_gettime(CLOCK_REALTIME, &r);
	m2 = mono_ns();
	return ts_ns(&r) - (m1 + (m2 - m1) / 2);
}

/* ---- options ----------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: fvmm-probe [options] HOST[:PORT]\n"
"Send numbered UDP datagrams at a fixed rate to an echo service (default\n"
"port %d) and report loss, RTT, loss bursts and the longest silence.\n"
"HOST is an IPv4/IPv6 address or name; IPv6 with a port as [ADDR]:PORT.\n"
"\n"
"  --rate PPS          datagrams per second (default 1000, %g..%g)\n"
"  --duration SECONDS  how long to send (default 10; float)\n"
"  --count N           send N datagrams instead of --duration\n"
"  --size BYTES        UDP payload size (default 64, %u..%u)\n"
"  --wait-ms MS        keep listening after the last send (default 500)\n"
"  --json FILE         also write the result as JSON ('-' = stdout; the\n"
"                      text report then goes to stderr)\n"
"  --csv FILE          also write one line per datagram: seq, send time,\n"
"                      RTT (empty if lost), replies, wait (see outage)\n"
"  --bursts-max N      list at most N loss bursts, largest first (default 10)\n"
"  --interval-ms MS    progress line on stderr every MS (default off)\n"
"  --bind ADDR[:PORT]  local address to send from\n"
"  --max-loss N        exit 1 if more than N datagrams were lost\n"
"  --max-gap-ms MS     exit 1 if the longest gap exceeds MS\n"
"  --quiet             no text report or progress lines\n"
"  --help, --version\n"
"\n"
"Limits: at most %llu datagrams and %.0f s of schedule per run.\n"
"Exit: 0 run completed (loss included), 1 a --max-* limit exceeded,\n"
"2 bad usage, 3 runtime error, 130 interrupted (report still printed).\n",
		DEFAULT_PORT, MIN_RATE, MAX_RATE, PROBE_HDR_SIZE,
		PROBE_MAX_SIZE, MAX_COUNT, MAX_SCHEDULE_S);
}

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt,
							       ...)
{
	va_list ap;

	fputs("fvmm-probe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	return PROBE_EXIT_USAGE;
}

static int parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * Split "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address.
 * @port is left untouched when none is given.
 */
static int split_hostport(const char *s, char *host, size_t host_size,
			  char *port, size_t port_size)
{
	const char *colon, *p;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return -EINVAL;
		n = (size_t)(close - s - 1);
		p = close + 1;
		if (*p == ':')
			p++;
		else if (*p)
			return -EINVAL;
		else
			p = NULL;
		s++;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;	/* bare IPv6 address */
		n = colon ? (size_t)(colon - s) : strlen(s);
		p = colon ? colon + 1 : NULL;
	}
	if (n == 0 || n >= host_size)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (p) {
		if (!*p || strlen(p) >= port_size)
			return -EINVAL;
		strcpy(port, p);
	}
	return 0;
}

/* Resolve @spec; @family AF_UNSPEC or the one required.  Exit code or 0. */
static int resolve(const char *what, const char *spec, int family,
		   int default_port, bool passive,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256], port[16];
	struct addrinfo hints = {0}, *res;
	uint64_t portnum;
	int err;

	snprintf(port, sizeof(port), "%d", default_port);
	if (split_hostport(spec, host, sizeof(host), port, sizeof(port)) < 0)
		return usage_error("%s '%s': expected HOST[:PORT] or [IPV6]:PORT",
				   what, spec);
	if (parse_u64(port, passive ? 0 : 1, 65535, &portnum) < 0)
		return usage_error("%s '%s': bad port '%s'", what, spec, port);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	err = getaddrinfo(host, port, &hints, &res);
	if (err)
		return usage_error("%s '%s': %s", what, host,
				   err == EAI_SYSTEM ? strerror(errno)
						     : gai_strerror(err));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

enum {
	OPT_RATE = 256, OPT_DURATION, OPT_COUNT, OPT_SIZE, OPT_WAIT_MS,
	OPT_JSON, OPT_BURSTS_MAX, OPT_QUIET, OPT_INTERVAL_MS, OPT_BIND,
	OPT_HELP, OPT_VERSION, OPT_MAX_LOSS, OPT_MAX_GAP_MS, OPT_CSV,
};

static const struct option long_opts[] = {
	{ "rate",	 required_argument, NULL, OPT_RATE },
	{ "duration",	 required_argument, NULL, OPT_DURATION },
	{ "count",	 required_argument, NULL, OPT_COUNT },
	{ "size",	 required_argument, NULL, OPT_SIZE },
	{ "wait-ms",	 required_argument, NULL, OPT_WAIT_MS },
	{ "json",	 required_argument, NULL, OPT_JSON },
	{ "csv",	 required_argument, NULL, OPT_CSV },
	{ "bursts-max",	 required_argument, NULL, OPT_BURSTS_MAX },
	{ "quiet",	 no_argument,	    NULL, OPT_QUIET },
	{ "interval-ms", required_argument, NULL, OPT_INTERVAL_MS },
	{ "bind",	 required_argument, NULL, OPT_BIND },
	{ "help",	 no_argument,	    NULL, OPT_HELP },
	{ "version",	 no_argument,	    NULL, OPT_VERSION },
	{ "max-loss",	 required_argument, NULL, OPT_MAX_LOSS },
	{ "max-gap-ms",	 required_argument, NULL, OPT_MAX_GAP_MS },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to continue, else an exit code. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c, idx;

	*o = (struct opts){
		.rate = 1000, .duration = 10, .size = 64, .wait_ms = 500,
		.bursts_max = 10,
	};
	opterr = 0;
	while ((idx = -1, c = getopt_long(argc, argv, ":", long_opts, &idx)) != -1) {
		const char *range = NULL;
		char name[32];
		int bad = 0;

		if (idx >= 0)
			snprintf(name, sizeof(name), "--%s", long_opts[idx].name);
		else
			snprintf(name, sizeof(name), "%s", argv[optind - 1]);

		switch (c) {
		case OPT_RATE:
			bad = parse_double(optarg, MIN_RATE, MAX_RATE, &o->rate);
			range = "0.1 .. 1000000 datagrams/s";
			break;
		case OPT_DURATION:
			bad = parse_double(optarg, 1e-6, MAX_SCHEDULE_S,
					   &o->duration);
			o->has_duration = true;
			range = "seconds, > 0 and <= 3600";
			break;
		case OPT_COUNT:
			bad = parse_u64(optarg, 1, MAX_COUNT, &o->count);
			range = "1 .. 10000000";
			o->has_count = true;
			break;
		case OPT_SIZE:
			bad = parse_u64(optarg, PROBE_HDR_SIZE, PROBE_MAX_SIZE,
					&o->size);
			range = "24 .. 65507 bytes";
			break;
		case OPT_WAIT_MS:
			bad = parse_double(optarg, 0, MAX_WAIT_MS, &o->wait_ms);
			range = "0 .. 60000 ms";
			break;
		case OPT_JSON:
			o->json = optarg;
			break;
		case OPT_CSV:
			o->csv = optarg;
			break;
		case OPT_BURSTS_MAX:
			bad = parse_u64(optarg, 0, MAX_BURSTS, &o->bursts_max);
			range = "0 .. 100000";
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case OPT_INTERVAL_MS:
			bad = parse_double(optarg, 0, 3600e3, &o->interval_ms);
			if (!bad && o->interval_ms > 0 && o->interval_ms < 1)
				bad = -EINVAL;
			range = "0 (off) or 1 .. 3600000 ms";
			break;
		case OPT_BIND:
			o->bind = optarg;
			break;
		case OPT_MAX_LOSS:
			bad = parse_u64(optarg, 0, UINT64_MAX, &o->max_loss);
			range = "a count >= 0";
			o->has_max_loss = true;
			break;
		case OPT_MAX_GAP_MS:
			bad = parse_double(optarg, 0, 1e12, &o->max_gap_ms);
			range = "ms >= 0";
			o->has_max_gap = true;
			break;
		case OPT_HELP:
			usage(stdout);
			return PROBE_EXIT_OK;
		case OPT_VERSION:
			printf("fvmm-probe %s\n", FVMM_VERSION);
			return PROBE_EXIT_OK;
		case ':':
			return usage_error("option '%s' needs a value", name);
		default:
			return usage_error("unknown option '%s'", name);
		}
		if (bad)
			return usage_error("bad value '%s' for %s: expected %s",
					   optarg, name, range);
	}
	if (optind >= argc)
		return usage_error("missing HOST[:PORT]");
	if (optind + 1 < argc)
		return usage_error("unexpected argument '%s'", argv[optind + 1]);
	o->target = argv[optind];
	if (o->has_count && o->has_duration)
		return usage_error("--count and --duration exclude each other");
	if (!o->has_count) {
		double n = floor(o->duration * o->rate + 0.5);

		if (n > (double)MAX_COUNT)
			return usage_error("--duration %g at --rate %g is %.0f datagrams, more than the limit of %llu",
					   o->duration, o->rate, n, MAX_COUNT);
		if (n < 1)
			return usage_error("--duration %g at --rate %g sends no datagram",
					   o->duration, o->rate);
		o->count = (uint64_t)n;
	}
	if ((double)(o->count - 1) / o->rate > MAX_SCHEDULE_S)
		return usage_error("--count %llu at --rate %g takes %.0f s, more than the limit of %.0f s",
				   (unsigned long long)o->count, o->rate,
				   (double)o->count / o->rate, MAX_SCHEDULE_S);
	return -1;
}

/* ---- socket ------------------------------------------------------------ */

static void set_buf(int fd, int force_opt, int opt, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

static int open_socket(struct prober *p, const struct opts *o)
{
	struct sockaddr_storage local;
	socklen_t local_len;
	int ret;

	ret = resolve("HOST", o->target, AF_UNSPEC, DEFAULT_PORT, false,
		      &p->peer, &p->peer_len);
	if (ret)
		return ret;
	if (o->bind) {
		ret = resolve("--bind", o->bind, p->peer.ss_family, 0, true,
			      &local, &local_len);
		if (ret)
			return ret;
	}
	p->fd = socket(p->peer.ss_family,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		fprintf(stderr, "fvmm-probe: socket: %s\n", strerror(errno));
		return PROBE_EXIT_ERROR;
	}
	set_buf(p->fd, SO_RCVBUFFORCE, SO_RCVBUF, SOCK_BUF);
	set_buf(p->fd, SO_SNDBUFFORCE, SO_SNDBUF, SOCK_BUF);
	/* kernel receive timestamps; without them the read time is used */
	setsockopt(p->fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 }, sizeof(int));
	/* count replies our own receive buffer dropped: not the network's */
	setsockopt(p->fd, SOL_SOCKET, SO_RXQ_OVFL, &(int){ 1 }, sizeof(int));
	if (o->bind && bind(p->fd, (struct sockaddr *)&local, local_len) < 0)
		return usage_error("--bind '%s': %s", o->bind, strerror(errno));
	return 0;
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
		      const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return alen >= sizeof(*x) && x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return alen >= sizeof(*x) && x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr,
			       sizeof(x->sin6_addr));
	}
	return false;
}

/* ---- send / receive ---------------------------------------------------- */

static int64_t deadline(const struct prober *p, uint64_t seq)
{
	return p->t0 + (int64_t)((double)seq * p->interval_d);
}

static void record_sent(struct prober *p, uint64_t seq, int64_t t)
{
	int64_t late = t - deadline(p, seq);

	probe_stats_sent(&p->st, seq, t - p->t0);
	if (seq == 0)
		p->first_send = t;
	p->last_send = t;
	p->late_sum_ns += (double)late;
	if (late > p->late_max_ns)
		p->late_max_ns = late;
}

/* Send every datagram that is due at @now, up to one batch. */
static void send_due(struct prober *p, int64_t now)
{
	unsigned n = 0;
	int64_t t;
	int ret;

	while (n < BATCH && p->next + n < p->count &&
	       deadline(p, p->next + n) <= now)
		n++;
	for (unsigned i = 0; i < n; i++) {
		probe_payload_build(p->sbuf + i * p->size, p->size, p->run_id,
				    p->next + i, 0);
		p->smsg[i].msg_hdr.msg_name = &p->peer;
		p->smsg[i].msg_hdr.msg_namelen = p->peer_len;
	}
	t = mono_ns();
	for (unsigned i = 0; i < n; i++)
		probe_payload_set_time(p->sbuf + i * p->size, (uint64_t)t);
	ret = sendmmsg(p->fd, p->smsg, n, 0);
	p->tx_blocked = false;
	if (ret < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			p->tx_blocked = errno != EINTR;
			return;		/* try again, later */
		}
		/* refused (no route, ENOBUFS, ...): sent, and lost */
		p->send_errors++;
		ret = 1;
	}
	for (int i = 0; i < ret; i++)
		record_sent(p, p->next + i, t);
	p->next += ret;
	/* the spin margin decays by 1/64 per send, see wait_io() */
	p->spin_ns -= p->spin_ns / 64;
	if (p->spin_ns < SPIN_MIN_NS)
		p->spin_ns = SPIN_MIN_NS;
}

/*
 * Control messages of message @i: the socket's drop counter, and the
 * arrival time (kernel stamp if any, never after @read_ns).
 */
static int64_t rx_cmsgs(struct prober *p, unsigned i, int64_t read_ns,
			int64_t offset)
{
	struct msghdr *mh = &p->rmsg[i].msg_hdr;
	int64_t t = read_ns;
	struct cmsghdr *c;
	struct timespec ts;
	uint32_t drops;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			t = ts_ns(&ts) - offset;
			if (t > read_ns)
				t = read_ns;
		} else if (c->cmsg_type == SO_RXQ_OVFL &&
			   c->cmsg_len >= CMSG_LEN(sizeof(drops))) {
			memcpy(&drops, CMSG_DATA(c), sizeof(drops));
			if (drops > p->rx_drops)
				p->rx_drops = drops;
		}
	}
	return t;
}

static void handle_reply(struct prober *p, unsigned i, int64_t arrival)
{
	const struct msghdr *mh = &p->rmsg[i].msg_hdr;
	struct probe_hdr h;
	enum probe_check chk;
	int64_t sent;

	if (!same_addr(&p->raddr[i], mh->msg_namelen, &p->peer) ||
	    (mh->msg_flags & MSG_TRUNC)) {
		probe_stats_bad(&p->st, false);
		return;
	}
	chk = probe_payload_check(p->rbuf + i * p->size, p->rmsg[i].msg_len,
				  p->size, p->run_id, &h);
	if (chk != PROBE_OK) {
		probe_stats_bad(&p->st, chk == PROBE_CORRUPT);
		return;
	}
	sent = (int64_t)(h.send_ns - (uint64_t)p->t0);
	arrival -= p->t0;
	if (arrival < sent)
		arrival = sent;		/* realtime stepped back */
	probe_stats_reply(&p->st, h.seq, sent, arrival);
}

/* Read what is queued, at most @calls recvmmsg calls. */
static void drain_rx(struct prober *p, int calls)
{
	while (calls-- > 0) {
		int64_t read_ns, offset;
		int r;

		for (unsigned i = 0; i < BATCH; i++) {
			struct msghdr *mh = &p->rmsg[i].msg_hdr;

			mh->msg_namelen = sizeof(p->raddr[i]);
			mh->msg_control = p->rctl[i].buf;
			mh->msg_controllen = sizeof(p->rctl[i].buf);
			mh->msg_flags = 0;
		}
		r = recvmmsg(p->fd, p->rmsg, BATCH, MSG_DONTWAIT, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* EAGAIN: empty.  Anything else (a queued ICMP
			 * error): nothing to read now either. */
			return;
		}
		read_ns = mono_ns();
		offset = real_minus_mono();
		for (int i = 0; i < r; i++)
			handle_reply(p, (unsigned)i,
				     rx_cmsgs(p, (unsigned)i, read_ns, offset));
		if (r < BATCH)
			return;
	}
}

static void progress(struct prober *p, int64_t now)
{
	int64_t gap, gap_at, silent, rel = now - p->t0;
	const struct probe_gap *g = &p->st.gap;

	if (!p->progress_ns || now < p->next_progress)
		return;
	while (p->next_progress <= now)
		p->next_progress += p->progress_ns;
	probe_gap_result(g, rel, &gap, &gap_at);
	silent = rel - (g->have_last ? g->last_ns : g->start_ns);
	if (g->ended)
		silent = 0;
	if (p->progress_out)
		fprintf(p->progress_out,
			"[%9.3f s] sent %llu  replies %llu (+%llu)  missing %llu  silent %.1f ms  longest gap %.1f ms\n",
			(double)rel / 1e9, (unsigned long long)p->st.sent,
			(unsigned long long)p->st.received,
			(unsigned long long)(p->st.received - p->progress_recv),
			(unsigned long long)(p->st.sent - p->st.received),
			(double)silent / 1e6, (double)gap / 1e6);
	p->progress_recv = p->st.received;
}

static void end_sending(struct prober *p, int64_t now)
{
	int64_t end = p->st.sent ? p->last_send : now;

	probe_stats_end_sending(&p->st, end - p->t0);
}

/* Sleep up to @ns or until the socket is readable (or writable). */
static void wait_io(struct prober *p, int64_t ns, bool want_out, bool learn)
{
	struct pollfd pfd = {
		.fd = p->fd, .events = POLLIN | (want_out ? POLLOUT : 0),
	};
	struct timespec ts = { .tv_sec = ns / NSEC, .tv_nsec = ns % NSEC };
	int64_t start = mono_ns(), over;

	/* EINTR: the loop looks again */
	if (ppoll(&pfd, 1, &ts, NULL) != 0 || !learn)
		return;
	/* timed out: learn how late the wakeup was */
	over = mono_ns() - (start + ns) + SPIN_SLACK_NS;
	if (over > p->spin_ns)
		p->spin_ns = over < SPIN_MAX_NS ? over : SPIN_MAX_NS;
}

static void run(struct prober *p)
{
	bool sending = true;
	int64_t wait_end = 0;

	p->spin_ns = 20000;
	p->t0 = mono_ns();
	p->t0_real = p->t0 + real_minus_mono();
	p->next_progress = p->t0 + p->progress_ns;
	p->hard_stop = deadline(p, p->count - 1) + (int64_t)OVERRUN_S * NSEC;
	for (;;) {
		int64_t now = mono_ns(), wake, sleep;

		if (sending) {
			bool over = now > p->hard_stop;

			if (stop_requests || p->next >= p->count || over) {
				p->overrun = over;
				sending = false;
				end_sending(p, now);
				wait_end = (p->st.sent ? p->last_send : now) +
					   p->wait_ns;
			} else if (deadline(p, p->next) <= now) {
				send_due(p, now);
			}
		}
		drain_rx(p, sending ? RX_CALLS_SENDING : RX_CALLS_WAITING);
		now = mono_ns();
		progress(p, now);
		if (sending) {
			wake = deadline(p, p->next) - p->spin_ns;
		} else {
			if (now >= wait_end || stop_requests > 1 ||
			    p->st.received == p->st.sent)
				break;
			wake = wait_end;
		}
		if (p->progress_ns && p->next_progress < wake)
			wake = p->next_progress;
		sleep = wake - now;
		if (sending && p->tx_blocked && sleep < 1000000)
			sleep = 1000000;	/* until writable, 1 ms at most */
		if (sleep > 0)
			wait_io(p, sleep, sending && p->tx_blocked, sending);
	}
}

/* ---- main -------------------------------------------------------------- */

static uint32_t random_id(void)
{
	uint32_t id;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) == sizeof(id))
		return id;
	return (uint32_t)(mono_ns() * 2654435761u) ^ (uint32_t)getpid();
}

static int alloc_io(struct prober *p)
{
	p->sbuf = calloc(BATCH, p->size);
	p->rbuf = calloc(BATCH, p->size);
	if (!p->sbuf || !p->rbuf)
		return -ENOMEM;
	for (unsigned i = 0; i < BATCH; i++) {
		p->siov[i].iov_base = p->sbuf + i * p->size;
		p->siov[i].iov_len = p->size;
		p->smsg[i].msg_hdr.msg_iov = &p->siov[i];
		p->smsg[i].msg_hdr.msg_iovlen = 1;
		p->riov[i].iov_base = p->rbuf + i * p->size;
		p->riov[i].iov_len = p->size;
		p->rmsg[i].msg_hdr.msg_iov = &p->riov[i];
		p->rmsg[i].msg_hdr.msg_iovlen = 1;
		p->rmsg[i].msg_hdr.msg_name = &p->raddr[i];
	}
	return 0;
}

static void fill_run(const struct prober *p, const struct opts *o,
		     struct probe_run *r)
{
	char host[INET6_ADDRSTRLEN], port[8];
	double span;

	memset(r, 0, sizeof(*r));
	r->version = FVMM_VERSION;
	if (getnameinfo((const struct sockaddr *)&p->peer, p->peer_len,
			host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(r->target, sizeof(r->target),
			 p->peer.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
			 host, port);
	r->run_id = p->run_id;
	r->rate_pps = o->rate;
	r->count = o->count;
	r->size = o->size;
	r->wait_ms = o->wait_ms;
	r->start_unix_us = p->t0_real / 1000;
	r->bursts_max = o->bursts_max;
	r->interrupted = stop_requests > 0 || p->overrun;
	span = p->st.sent ? (double)(p->last_send - p->first_send) / 1e9 : 0;
	r->send_time_s = span;
	r->achieved_pps = span > 0 ? (double)(p->st.sent - 1) / span : 0;
	r->send_late_avg_us = p->st.sent ?
		p->late_sum_ns / (double)p->st.sent / 1e3 : 0;
	r->send_late_max_us = (double)p->late_max_ns / 1e3;
	r->send_errors = p->send_errors;
	r->rx_drops = p->rx_drops;
	r->has_max_loss = o->has_max_loss;
	r->max_loss = o->max_loss;
	r->has_max_gap = o->has_max_gap;
	r->max_gap_ms = o->max_gap_ms;
}

static int write_json(FILE *f, const char *path, const struct probe_run *r,
		      const struct probe_summary *sum, int code)
{
	json_t *root = probe_report_json(r, sum, code);
	int ret = 0;

	if (!root || json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) < 0 ||
	    fputc('\n', f) == EOF) {
		fprintf(stderr, "fvmm-probe: writing JSON to %s failed\n", path);
		ret = -EIO;
	}
	json_decref(root);
	return ret;
}

static int write_csv(FILE *f, const char *path, const struct probe_stats *st)
{
	if (probe_stats_csv(f, st) < 0 || fflush(f) == EOF) {
		fprintf(stderr, "fvmm-probe: writing CSV to %s failed\n", path);
		return -EIO;
	}
	return 0;
}

static int finish(struct prober *p, const struct opts *o, FILE *json_out,
		  FILE *csv_out)
{
	struct probe_summary sum;
	struct probe_run r;
	char why[160];
	int code;
	FILE *text = o->json && !strcmp(o->json, "-") ? stderr : stdout;

	if (probe_stats_finish(&p->st, o->bursts_max, &sum) < 0) {
		fprintf(stderr, "fvmm-probe: out of memory for the summary\n");
		return PROBE_EXIT_ERROR;
	}
	fill_run(p, o, &r);
	code = probe_verdict(&r, &sum, why, sizeof(why));
	if (r.interrupted)
		code = PROBE_EXIT_INTERRUPTED;
	if (!o->quiet)
		probe_report_text(text, &r, &sum);
	if (json_out && write_json(json_out, o->json, &r, &sum, code) < 0)
		code = PROBE_EXIT_ERROR;
	if (csv_out && write_csv(csv_out, o->csv, &p->st) < 0)
		code = PROBE_EXIT_ERROR;
	if (why[0])
		fprintf(stderr, "fvmm-probe: limit exceeded: %s\n", why);
	if (r.rx_drops)
		fprintf(stderr, "fvmm-probe: warning: the probe's own receive buffer dropped %llu replies (counted as lost)\n",
			(unsigned long long)r.rx_drops);
	if (sum.sent > 10 && r.achieved_pps < 0.99 * r.rate_pps)
		fprintf(stderr, "fvmm-probe: warning: the sender could not keep up: %.0f of %g datagrams/s (late by up to %.1f ms)\n",
			r.achieved_pps, r.rate_pps, r.send_late_max_us / 1e3);
	if (p->overrun)
		fprintf(stderr, "fvmm-probe: sender fell %d s behind schedule, stopped\n",
			OVERRUN_S);
	probe_summary_free(&sum);
	return code;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct prober *p;
	struct opts o;
	FILE *json_out = NULL, *csv_out = NULL;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret >= 0)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "fvmm-probe: out of memory\n");
		return PROBE_EXIT_ERROR;
	}
	p->fd = -1;
	ret = open_socket(p, &o);
	if (ret)
		goto out_socket;
	if (o.json) {
		json_out = strcmp(o.json, "-") ? fopen(o.json, "w") : stdout;
		if (!json_out) {
			ret = usage_error("--json '%s': %s", o.json,
					  strerror(errno));
			goto out_socket;
		}
	}
	if (o.csv) {
		csv_out = fopen(o.csv, "w");
		if (!csv_out) {
			ret = usage_error("--csv '%s': %s", o.csv,
					  strerror(errno));
			goto out_json;
		}
	}
	p->size = o.size;
	p->count = o.count;
	p->interval_d = 1e9 / o.rate;
	p->wait_ns = (int64_t)(o.wait_ms * 1e6);
	p->progress_ns = o.quiet ? 0 : (int64_t)(o.interval_ms * 1e6);
	p->progress_out = stderr;
	p->run_id = random_id();
	ret = probe_stats_init(&p->st, o.count, (int64_t)(p->interval_d + 0.5));
	if (ret < 0 || alloc_io(p) < 0) {
		fprintf(stderr, "fvmm-probe: cannot allocate state for %llu datagrams: %s\n",
			(unsigned long long)o.count, strerror(ENOMEM));
		ret = PROBE_EXIT_ERROR;
		goto out_stats;
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	run(p);
	ret = finish(p, &o, json_out, csv_out);

out_stats:
	probe_stats_free(&p->st);
	free(p->sbuf);
	free(p->rbuf);
	if (csv_out && fclose(csv_out) == EOF) {
		fprintf(stderr, "fvmm-probe: closing %s: %s\n", o.csv,
			strerror(errno));
		ret = PROBE_EXIT_ERROR;
	}
out_json:
	if (json_out && json_out != stdout && fclose(json_out) == EOF) {
		fprintf(stderr, "fvmm-probe: closing %s: %s\n", o.json,
			strerror(errno));
		ret = PROBE_EXIT_ERROR;
	}
out_socket:
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	return ret;
}
