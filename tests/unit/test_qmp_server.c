// SPDX-License-Identifier: MIT
/*
 * The QMP server over real unix sockets, on a VM without KVM (no vCPUs, a
 * running event loop): VM commands and their events, several clients,
 * events from another thread, the 1 MiB input limit, a client that does not
 * read, pipelined requests, half-closed clients, quit and guest shutdown
 * with the bounded final flush, and the socket file's life cycle.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/qmp_proto.h"
#include "core/util.h"

#define WAIT_MS		5000

static char dir[64];
static char spec[128];
static struct vm vm;

/* ---- a fake VM: event loop, lock, exit pipe; no KVM ------------------- */

struct fake_nic {
	struct device dev;
	int calls;
	bool up;
};

static int nic_set_link(struct device *dev, bool up)
{
	struct fake_nic *n = container_of(dev, struct fake_nic, dev);

	n->calls++;
	n->up = up;
	return 0;
}

static const struct device_ops nic_ops = { .type = "fake-nic",
					   .set_link = nic_set_link };
static const struct device_ops plain_ops = { .type = "fake-plain" };
static struct fake_nic nic = { .dev = { .id = "net0", .ops = &nic_ops } };
static struct device plain = { .id = "uart0", .ops = &plain_ops };

static void vm_fake_init(struct vm *v, const char *qmp)
{
	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	assert_int_equal(pipe2(v->exit_pipe, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(evloop_init(&v->loop), 0);
	v->loop_ready = true;
	v->state = VM_RUNNING;
	v->cfg.qmp = qmp;
}

static void vm_fake_fini(struct vm *v)
{
	evloop_stop(&v->loop);
	qmp_server_stop(v);
	evloop_destroy(&v->loop);
	close(v->exit_pipe[0]);
	close(v->exit_pipe[1]);
	pthread_mutex_destroy(&v->lock);
	pthread_cond_destroy(&v->cond);
}

static int setup(void **state)
{
	vm_fake_init(&vm, spec);
	nic.calls = 0;
	vm_add_device(&vm, &nic.dev);
	vm_add_device(&vm, &plain);
	assert_int_equal(qmp_server_start(&vm), 0);
	assert_int_equal(evloop_start(&vm.loop), 0);
	return 0;
}

static int teardown(void **state)
{
	vm_fake_fini(&vm);
	return 0;
}

static int group_setup(void **state)
{
	strcpy(dir, "/tmp/fvmm-qmp-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "unix:%s/qmp.sock", dir);
	return 0;
}

static int group_teardown(void **state)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/file", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* ---- a test client ---------------------------------------------------- */

struct cli {
	int fd;
	struct qmp_json js;
	json_t *q;		/* messages received, not yet taken */
	bool eof;
};

static int cli_on_value(void *opaque, enum qmp_json_kind kind,
			const char *text, size_t len)
{
	struct cli *c = opaque;
	json_t *msg = json_loadb(text, len, 0, NULL);

	assert_true(json_is_object(msg));
	json_array_append_new(c->q, msg);
	return 0;
}

static int cli_connect(struct cli *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	qmp_json_init(&c->js);
	c->q = json_array();
	/* Blocking connect: waits while the listen backlog is full. */
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return fcntl(c->fd, F_SETFL, O_NONBLOCK);
}

static void cli_open(struct cli *c)
{
	assert_int_equal(cli_connect(c, spec + 5), 0);
}

static void cli_close(struct cli *c)
{
	close(c->fd);
	qmp_json_free(&c->js);
	json_decref(c->q);
}

/* Read once, waiting up to ms; false on timeout or EOF. */
static bool cli_fill(struct cli *c, int ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	char buf[65536];
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return false;
	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n <= 0) {
		c->eof = true;
		return false;
	}
	assert_true(qmp_json_feed(&c->js, buf, n, cli_on_value, c) == n);
	return true;
}

/* Next message, or NULL after WAIT_MS or at EOF. */
static json_t *cli_recv_ms(struct cli *c, int ms)
{
	json_t *m;

	while (!json_array_size(c->q))
		if (!cli_fill(c, ms))
			return NULL;
	m = json_incref(json_array_get(c->q, 0));
	json_array_remove(c->q, 0);
	return m;
}

static json_t *cli_recv(struct cli *c)
{
	json_t *m = cli_recv_ms(c, WAIT_MS);

	assert_non_null(m);
	return m;
}

static void cli_send(struct cli *c, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		ssize_t n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += n;
			continue;
		}
		assert_true(n < 0 && errno == EAGAIN);
		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	}
}

/* The reply to the last request, skipping events. */
static json_t *cli_reply(struct cli *c)
{
	for (;;) {
		json_t *m = cli_recv(c);

		if (!json_object_get(m, "event"))
			return m;
		json_decref(m);
	}
}

static void expect_return(struct cli *c, const char *req)
{
	json_t *m;

	cli_send(c, req);
	m = cli_reply(c);
	assert_non_null(json_object_get(m, "return"));
	json_decref(m);
}

static void expect_error(struct cli *c, const char *req, const char *cls,
			 const char *desc)
{
	json_t *m, *err;

	cli_send(c, req);
	m = cli_reply(c);
	err = json_object_get(m, "error");
	assert_non_null(err);
	assert_string_equal(json_string_value(json_object_get(err, "class")),
			    cls);
	assert_string_equal(json_string_value(json_object_get(err, "desc")),
			    desc);
	json_decref(m);
}

static void expect_event(struct cli *c, const char *name)
{
	json_t *m = cli_recv(c);

	assert_string_equal(json_string_value(json_object_get(m, "event")) ?: "",
			    name);
	assert_non_null(json_object_get(json_object_get(m, "timestamp"),
					"microseconds"));
	json_decref(m);
}

static void cli_negotiate(struct cli *c)
{
	json_t *g = cli_recv(c);

	assert_non_null(json_object_get(g, "QMP"));
	json_decref(g);
	expect_return(c, "{\"execute\":\"qmp_capabilities\"}");
}

static void expect_status(struct cli *c, const char *status)
{
	json_t *m;

	cli_send(c, "{\"execute\":\"query-status\"}");
	m = cli_reply(c);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(m, "return"), "status")), status);
	json_decref(m);
}

/* ---- tests ------------------------------------------------------------ */

static void test_run_state(void **state)
{
	struct cli c;
	json_t *m;

	cli_open(&c);
	cli_negotiate(&c);
	expect_status(&c, "running");
	expect_return(&c, "{\"execute\":\"stop\"}");
	expect_event(&c, "STOP");
	expect_status(&c, "paused");
	/* Stopping a stopped VM: no second STOP; the next message is the
	 * reply to query-status. */
	cli_send(&c, "{\"execute\":\"stop\"}{\"execute\":\"query-status\",\"id\":1}");
	json_decref(cli_recv(&c));
	m = cli_recv(&c);
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 1);
	json_decref(m);
	expect_return(&c, "{\"execute\":\"cont\"}");
	expect_event(&c, "RESUME");
	expect_status(&c, "running");
	cli_close(&c);
}

static void test_two_clients(void **state)
{
	struct cli a, b, n;

	cli_open(&a);
	cli_open(&b);
	cli_open(&n);
	cli_negotiate(&a);
	cli_negotiate(&b);
	json_decref(cli_recv(&n));	/* greeting only */
	expect_return(&a, "{\"execute\":\"stop\"}");
	expect_event(&a, "STOP");
	expect_event(&b, "STOP");
	expect_status(&b, "paused");
	/* The negotiating client got no event: its next message is this. */
	expect_error(&n, "{\"execute\":\"cont\"}", "CommandNotFound",
		     "Expecting capabilities negotiation with 'qmp_capabilities'");
	expect_return(&b, "{\"execute\":\"cont\"}");
	expect_event(&a, "RESUME");
	expect_event(&b, "RESUME");
	cli_close(&a);
	cli_close(&b);
	cli_close(&n);
}

static void test_bad_input_keeps_connection(void **state)
{
	struct cli c;

	cli_open(&c);
	cli_negotiate(&c);
	expect_error(&c, "{\"execute\": ]", "GenericError",
		     "JSON parse error, unexpected token near ']'");
	expect_error(&c, "{\"execute\":\"frobnicate\"}", "CommandNotFound",
		     "The command frobnicate has not been found");
	expect_error(&c, "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"net0\",\"up\":\"yes\"}}",
		     "GenericError",
		     "Invalid parameter type for 'up', expected: boolean");
	expect_status(&c, "running");
	cli_close(&c);
}

static void test_set_link(void **state)
{
	struct cli c;

	cli_open(&c);
	cli_negotiate(&c);
	expect_return(&c, "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"net0\",\"up\":false}}");
	assert_int_equal(nic.calls, 1);
	assert_false(nic.up);
	expect_return(&c, "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"net0\",\"up\":true}}");
	assert_true(nic.up);
	expect_error(&c, "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"nope\",\"up\":true}}",
		     "DeviceNotFound", "Device 'nope' not found");
	expect_error(&c, "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"uart0\",\"up\":true}}",
		     "GenericError", "Device 'uart0' is not a network device");
	expect_error(&c, "{\"execute\":\"set_link\",\"arguments\":{\"up\":true}}",
		     "GenericError", "Parameter 'name' is missing");
	cli_close(&c);
}

static void *emit_events(void *arg)
{
	for (int i = 0; i < 100; i++)
		qmp_event(&vm, "X_TEST", json_pack("{s:i}", "n", i));
	return NULL;
}

static void test_events_from_thread(void **state)
{
	pthread_t t;
	struct cli c;

	cli_open(&c);
	cli_negotiate(&c);
	assert_int_equal(pthread_create(&t, NULL, emit_events, NULL), 0);
	pthread_join(t, NULL);
	for (int i = 0; i < 100; i++) {
		json_t *m = cli_recv(&c);

		assert_string_equal(json_string_value(json_object_get(m, "event")),
				    "X_TEST");
		assert_int_equal(json_integer_value(json_object_get(
			json_object_get(m, "data"), "n")), i);
		json_decref(m);
	}
	cli_close(&c);
}

static void test_oversize_disconnects(void **state)
{
	size_t len = QMP_JSON_MAX + 4096, off = 0;
	char *big = malloc(len);
	struct cli c, other;
	json_t *m;

	assert_non_null(big);
	memset(big, '[', len);
	cli_open(&c);
	cli_open(&other);
	cli_negotiate(&c);
	cli_negotiate(&other);
	/* Push until the server hangs up; it reads all along. */
	while (off < len) {
		struct pollfd p = { .fd = c.fd, .events = POLLOUT };
		ssize_t n = send(c.fd, big + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			break;		/* EPIPE/ECONNRESET: dropped */
		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	}
	m = cli_recv(&c);
	assert_non_null(strstr(json_string_value(json_object_get(
		json_object_get(m, "error"), "desc")), "longer than"));
	json_decref(m);
	assert_null(cli_recv_ms(&c, WAIT_MS));
	assert_true(c.eof);
	/* Others are unaffected. */
	expect_status(&other, "running");
	free(big);
	cli_close(&c);
	cli_close(&other);
}

static void flood(int count, size_t size)
{
	char *s = malloc(size + 1);

	memset(s, 'x', size);
	s[size] = '\0';
	for (int i = 0; i < count; i++)
		qmp_event(&vm, "X_BIG", json_pack("{s:s}", "blob", s));
	free(s);
}

static void test_slow_reader_dropped(void **state)
{
	struct cli slow, ok;
	size_t total = 0;

	cli_open(&slow);
	cli_negotiate(&slow);
	/* 6 MiB of events to a client that does not read. */
	flood(96, 64 * 1024);
	/* A later client works; by its reply the flood has been handled. */
	cli_open(&ok);
	cli_negotiate(&ok);
	expect_status(&ok, "running");
	/* The slow one was dropped: what it can read ends with EOF. */
	while (!slow.eof) {
		json_t *m = cli_recv_ms(&slow, WAIT_MS);

		if (!m)
			break;
		total++;
		json_decref(m);
	}
	assert_true(slow.eof);
	assert_true(total < 96);
	cli_close(&slow);
	cli_close(&ok);
}

static volatile bool ticking;

static void *ticker(void *arg)
{
	for (int i = 0; ticking; i++) {
		qmp_event(&vm, "X_TICK", json_pack("{s:i}", "n", i));
		usleep(200);
	}
	return NULL;
}

/*
 * Many requests without reading: throttled, not dropped, all answered, also
 * while events keep arriving (they must not leave a throttled client with
 * nothing to wait for).
 */
static void pipeline(size_t nreq, bool events)
{
	const char *req = "{\"execute\":\"query-commands\"}\n";
	size_t rlen = strlen(req), sent = 0, off = 0, got = 0;
	pthread_t t;
	struct cli c;

	cli_open(&c);
	cli_negotiate(&c);
	ticking = events;
	if (events)
		assert_int_equal(pthread_create(&t, NULL, ticker, NULL), 0);
	while (got < nreq) {
		struct pollfd p = { .fd = c.fd, .events = POLLIN };
		json_t *m;

		if (sent < nreq) {
			ssize_t n = send(c.fd, req + off, rlen - off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n > 0) {
				off += n;
				if (off == rlen) {
					off = 0;
					sent++;
				}
				continue;
			}
			assert_true(n < 0 && errno == EAGAIN);
			p.events |= POLLOUT;
		}
		while (json_array_size(c.q)) {
			m = cli_recv(&c);
			if (!json_object_get(m, "event")) {
				assert_true(json_is_array(json_object_get(m, "return")));
				got++;
			}
			json_decref(m);
		}
		if (got == nreq)
			break;
		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
		if (p.revents & POLLIN)
			assert_true(cli_fill(&c, 0));
	}
	ticking = false;
	if (events)
		pthread_join(t, NULL);
	assert_int_equal(got, nreq);
	cli_close(&c);
}

static void test_pipelined(void **state)
{
	pipeline(20000, false);
}

static void test_pipelined_with_events(void **state)
{
	pipeline(3000, true);
}

static void test_half_close(void **state)
{
	struct cli c;
	json_t *m;

	cli_open(&c);
	cli_send(&c, "{\"execute\":\"qmp_capabilities\"}{\"execute\":\"query-status\",\"id\":2}");
	shutdown(c.fd, SHUT_WR);
	json_decref(cli_recv(&c));		/* greeting */
	json_decref(cli_recv(&c));		/* capabilities */
	m = cli_recv(&c);
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 2);
	json_decref(m);
	assert_null(cli_recv_ms(&c, WAIT_MS));
	assert_true(c.eof);
	cli_close(&c);
}

static void test_too_many_clients(void **state)
{
	struct cli c[40];
	int greeted = 0, refused = 0;

	for (int i = 0; i < 40; i++)
		cli_open(&c[i]);
	for (int i = 0; i < 40; i++) {
		json_t *g = cli_recv_ms(&c[i], WAIT_MS);

		if (g)
			greeted++;
		else if (c[i].eof)
			refused++;
		json_decref(g);
	}
	assert_int_equal(greeted, 32);
	assert_int_equal(refused, 8);
	for (int i = 0; i < 40; i++)
		cli_close(&c[i]);
	/* Slots come back once clients leave. */
	usleep(100 * 1000);
	cli_open(&c[0]);
	cli_negotiate(&c[0]);
	cli_close(&c[0]);
}

static void expect_shutdown(struct cli *c, bool guest, const char *reason)
{
	json_t *m = cli_recv(c), *d = json_object_get(m, "data");

	assert_string_equal(json_string_value(json_object_get(m, "event")),
			    "SHUTDOWN");
	assert_int_equal(json_is_true(json_object_get(d, "guest")), guest);
	assert_string_equal(json_string_value(json_object_get(d, "reason")),
			    reason);
	json_decref(m);
}

static void test_quit(void **state)
{
	struct cli a, b;
	json_t *m;
	char ch;

	cli_open(&a);
	cli_open(&b);
	cli_negotiate(&a);
	cli_negotiate(&b);
	cli_send(&a, "{\"execute\":\"quit\",\"id\":\"q\"}");
	/* The reply first, then the event. */
	m = cli_recv(&a);
	assert_string_equal(json_string_value(json_object_get(m, "id")), "q");
	assert_non_null(json_object_get(m, "return"));
	json_decref(m);
	expect_shutdown(&a, false, "host-qmp-quit");
	expect_shutdown(&b, false, "host-qmp-quit");
	assert_int_equal(read(vm.exit_pipe[0], &ch, 1), 1);
	assert_int_equal(vm.exit_status, 0);
	/* Until fvmm is gone, live-state commands are fenced off. */
	expect_error(&b, "{\"execute\":\"cont\"}", "GenericError",
		     "The command cont is not allowed in VM state 'shutdown'");
	expect_status(&b, "shutdown");
	cli_close(&a);
	cli_close(&b);
}

static void *guest_poweroff(void *arg)
{
	vm_request_exit(&vm, 0, "guest powered off");
	return NULL;
}

/*
 * Guest power-off from a vCPU-like thread, then teardown as main() does it
 * right away: SHUTDOWN still reaches the client, and a client that does not
 * read holds the exit up for the bounded flush time only.
 */
static void test_guest_shutdown_flush(void **state)
{
	struct cli c, stuck;
	uint64_t t0, ms;
	pthread_t t;

	cli_open(&c);
	cli_negotiate(&c);
	cli_open(&stuck);
	cli_negotiate(&stuck);
	flood(40, 64 * 1024);		/* 2.5 MiB: queued, not dropped */
	expect_status(&c, "running");	/* the flood is queued now */
	assert_int_equal(pthread_create(&t, NULL, guest_poweroff, NULL), 0);
	pthread_join(t, NULL);
	t0 = now_ns();
	evloop_stop(&vm.loop);
	qmp_server_stop(&vm);
	ms = (now_ns() - t0) / 1000000;
	assert_true(ms < 1000);
	for (;;) {
		json_t *m = cli_recv(&c);
		bool big = !strcmp(json_string_value(json_object_get(m, "event")),
				   "X_BIG");

		if (!big) {
			json_array_insert_new(c.q, 0, m);
			break;
		}
		json_decref(m);
	}
	expect_shutdown(&c, true, "guest-shutdown");
	assert_null(cli_recv_ms(&c, WAIT_MS));
	assert_true(c.eof);
	cli_close(&c);
	cli_close(&stuck);
}

static void test_socket_path(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[128], file[128], longspec[200];
	struct vm v2;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	/* The server from setup() is live: a second one must not take over. */
	vm_fake_init(&v2, spec);
	assert_int_equal(qmp_server_start(&v2), -EADDRINUSE);
	vm_fake_fini(&v2);
	assert_int_equal(stat(path, &st), 0);
	/* Stopping removes the socket file. */
	evloop_stop(&vm.loop);
	qmp_server_stop(&vm);
	assert_int_equal(stat(path, &st), -1);
	/* A stale socket (nobody listening) is replaced. */
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	vm_fake_init(&v2, spec);
	assert_int_equal(qmp_server_start(&v2), 0);
	vm_fake_fini(&v2);
	assert_int_equal(stat(path, &st), -1);
	/* Something that is not a socket is never removed. */
	snprintf(file, sizeof(file), "unix:%s/file", dir);
	fd = open(file + 5, O_CREAT | O_WRONLY, 0600);
	close(fd);
	vm_fake_init(&v2, file);
	assert_int_equal(qmp_server_start(&v2), -EEXIST);
	vm_fake_fini(&v2);
	assert_int_equal(stat(file + 5, &st), 0);
	/* Bad specifications. */
	vm_fake_init(&v2, "tcp:localhost:4444");
	assert_int_equal(qmp_server_start(&v2), -EINVAL);
	vm_fake_fini(&v2);
	memset(longspec, 'a', sizeof(longspec) - 1);
	longspec[sizeof(longspec) - 1] = '\0';
	memcpy(longspec, "unix:/", 6);
	vm_fake_init(&v2, longspec);
	assert_int_equal(qmp_server_start(&v2), -ENAMETOOLONG);
	vm_fake_fini(&v2);
	/* Without --qmp there is no server and events are dropped. */
	vm_fake_init(&v2, NULL);
	assert_int_equal(qmp_server_start(&v2), 0);
	assert_null(v2.qmp);
	qmp_event(&v2, "X_TEST", json_pack("{s:i}", "n", 1));
	vm_fake_fini(&v2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_run_state),
		T(test_two_clients),
		T(test_bad_input_keeps_connection),
		T(test_set_link),
		T(test_events_from_thread),
		T(test_oversize_disconnects),
		T(test_slow_reader_dropped),
		T(test_pipelined),
		T(test_pipelined_with_events),
		T(test_half_close),
		T(test_too_many_clients),
		T(test_quit),
		T(test_guest_shutdown_flush),
		T(test_socket_path),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
