// SPDX-License-Identifier: MIT
/* Migration endpoints: parsing tcp:/unix: URIs, connecting and listening. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "migration/uri.h"

static int split_tcp(const char *rest, char *host, size_t hlen, char *port,
		     size_t plen)
{
	const char *colon;
	size_t n;

	if (rest[0] == '[') {
		const char *end = strchr(rest, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		n = end - rest - 1;
		colon = end + 1;
		rest++;
	} else {
		colon = strrchr(rest, ':');
		if (!colon)
			return -EINVAL;
		n = colon - rest;
	}
	if (n >= hlen || !colon[1] || strlen(colon + 1) >= plen)
		return -EINVAL;
	memcpy(host, rest, n);
	host[n] = 0;
	strcpy(port, colon + 1);
	return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *sa, char *err,
		     size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!path[0] || strlen(path) >= sizeof(sa->sun_path)) {
		snprintf(err, errlen, "unix socket path '%s' is empty or too long",
			 path);
		return -EINVAL;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

static int resolve(const char *uri, bool passive, struct addrinfo **res,
		   char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = passive ? AI_PASSIVE : 0 };
	char host[256], port[32];
	int ret;

	if (split_tcp(uri + 4, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, errlen, "'%s': expected tcp:HOST:PORT", uri);
		return -EINVAL;
	}
	ret = getaddrinfo(host[0] ? host : NULL, port, &hints, res);
	if (ret) {
		snprintf(err, errlen, "'%s': %s", uri, gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	return 0;
}

/* Poll slices short enough that migrate_cancel during a connect is prompt. */
#define CONNECT_SLICE_MS	50

static int wait_connected(int fd, int timeout_ms, const bool *cancel)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int n, soerr = 0;

	for (;;) {
		int slice = timeout_ms < CONNECT_SLICE_MS ? timeout_ms :
							    CONNECT_SLICE_MS;

		n = poll(&p, 1, slice);
		if (n < 0 && errno == EINTR)
			continue;
		if (n)
			break;
		timeout_ms -= slice;
		if (timeout_ms <= 0)
			return -ETIMEDOUT;
		if (cancel && __atomic_load_n(cancel, __ATOMIC_ACQUIRE))
			return -ECANCELED;
	}
	if (n < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	return -soerr;
}

static int connect_addr(int family, const struct sockaddr *sa, socklen_t len,
			int timeout_ms, const bool *cancel)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, sa, len) < 0)
		ret = errno == EINPROGRESS ? wait_connected(fd, timeout_ms, cancel) :
					     -errno;
	if (!ret && fcntl(fd, F_SETFL, 0) < 0)
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int mig_uri_connect(const char *uri, int timeout_ms, const bool *cancel,
		    char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct addrinfo *res, *ai;
	int fd = -EINVAL, one = 1;

	if (!strncmp(uri, "unix:", 5)) {
		fd = unix_addr(uri + 5, &sun, err, errlen);
		if (fd)
			return fd;
		fd = connect_addr(AF_UNIX, (struct sockaddr *)&sun,
				  sizeof(sun), timeout_ms, cancel);
	} else if (!strncmp(uri, "tcp:", 4)) {
		fd = resolve(uri, false, &res, err, errlen);
		if (fd)
			return fd;
		for (ai = res; ai; ai = ai->ai_next) {
			fd = connect_addr(ai->ai_family, ai->ai_addr,
					  ai->ai_addrlen, timeout_ms, cancel);
			if (fd >= 0 || fd == -ECANCELED)
				break;
		}
		freeaddrinfo(res);
		if (fd >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
	} else {
		snprintf(err, errlen, "'%s': expected tcp:HOST:PORT or unix:PATH",
			 uri);
		return -EINVAL;
	}
	if (fd < 0 && fd != -ECANCELED)
		snprintf(err, errlen, "cannot connect to '%s': %s", uri,
			 strerror(-fd));
	return fd;
}

static int listen_addr(int family, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, len) < 0 || listen(fd, 1) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

int mig_uri_listen(const char *uri, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct addrinfo *res;
	int fd;

	if (!strncmp(uri, "unix:", 5)) {
		fd = unix_addr(uri + 5, &sun, err, errlen);
		if (fd)
			return fd;
		unlink(sun.sun_path);
		fd = listen_addr(AF_UNIX, (struct sockaddr *)&sun,
				 sizeof(sun));
	} else if (!strncmp(uri, "tcp:", 4)) {
		fd = resolve(uri, true, &res, err, errlen);
		if (fd)
			return fd;
		fd = listen_addr(res->ai_family, res->ai_addr,
				 res->ai_addrlen);
		freeaddrinfo(res);
	} else {
		snprintf(err, errlen, "'%s': expected tcp:HOST:PORT or unix:PATH",
			 uri);
		return -EINVAL;
	}
	if (fd < 0)
		snprintf(err, errlen, "cannot listen on '%s': %s", uri,
			 strerror(-fd));
	return fd;
}

int mig_socket_set_timeout(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (timeout_ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}
