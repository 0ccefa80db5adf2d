// SPDX-License-Identifier: MIT
/*
 * Backend registry (--netdev), frontend attachment and event-loop glue.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/evloop.h"
#include "core/log.h"
#include "core/vm.h"
#include "net/net.h"
#include "pci/opts.h"

/* One process runs one VM, but keep the list keyed by VM all the same. */
static pthread_mutex_t netdevs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct netdev *netdevs;

/* ---- event loop ---- */

static void netdev_cb(void *opaque, uint32_t events)
{
	struct netdev *nd = opaque;

	/* Errors/hangups are reported as readable: the read sees them. */
	if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) &&
	    (nd->events & EPOLLIN) && nd->client->rx_ready)
		nd->client->rx_ready(nd->client_opaque);
	if ((events & EPOLLOUT) && (nd->events & EPOLLOUT) &&
	    nd->client->tx_ready)
		nd->client->tx_ready(nd->client_opaque);
}

static void netdev_update_events(struct netdev *nd, uint32_t events)
{
	uint32_t old = __atomic_exchange_n(&nd->events, events,
					   __ATOMIC_RELAXED);

	if (old == events || !nd->registered)
		return;
	if (evloop_mod(&nd->vm->loop, nd->fd, events))
		pr_warn("netdev %s: cannot change poll events", nd->id);
}

void netdev_rx_enable(struct netdev *nd, bool on)
{
	uint32_t ev = nd->events;

	netdev_update_events(nd, on ? ev | EPOLLIN : ev & ~EPOLLIN);
}

void netdev_tx_wait(struct netdev *nd, bool on)
{
	uint32_t ev = nd->events;

	netdev_update_events(nd, on ? ev | EPOLLOUT : ev & ~EPOLLOUT);
}

int netdev_attach(struct netdev *nd, const char *user,
		  const struct netdev_client_ops *ops, void *opaque)
{
	int ret;

	if (nd->user)
		return -EBUSY;
	nd->user = user;
	nd->client = ops;
	nd->client_opaque = opaque;
	nd->events = 0;
	/* Registered with no events: the frontend turns rx on when ready. */
	ret = evloop_add(&nd->vm->loop, nd->fd, 0, netdev_cb, nd);
	if (ret) {
		nd->user = NULL;
		return ret;
	}
	nd->registered = true;
	return 0;
}

void netdev_detach(struct netdev *nd)
{
	if (nd->registered)
		evloop_del(&nd->vm->loop, nd->fd);
	nd->registered = false;
	nd->user = NULL;
	nd->client = NULL;
	nd->events = 0;
}

void netdev_close(struct netdev *nd)
{
	if (!nd)
		return;
	netdev_detach(nd);
	close(nd->fd);
	free(nd);
}

/* ---- registry ---- */

struct netdev *netdev_find(struct vm *vm, const char *id)
{
	struct netdev *nd;

	pthread_mutex_lock(&netdevs_lock);
	for (nd = netdevs; nd; nd = nd->next)
		if (nd->vm == vm && !strcmp(nd->id, id))
			break;
	pthread_mutex_unlock(&netdevs_lock);
	return nd;
}

int netdev_register(struct netdev *nd)
{
	if (netdev_find(nd->vm, nd->id))
		return -EEXIST;
	pthread_mutex_lock(&netdevs_lock);
	nd->next = netdevs;
	netdevs = nd;
	pthread_mutex_unlock(&netdevs_lock);
	return 0;
}

void netdev_close_all(struct vm *vm)
{
	struct netdev **pp, *nd;

	pthread_mutex_lock(&netdevs_lock);
	pp = &netdevs;
	while ((nd = *pp)) {
		if (nd->vm != vm) {
			pp = &nd->next;
			continue;
		}
		*pp = nd->next;
		netdev_close(nd);
	}
	pthread_mutex_unlock(&netdevs_lock);
}

/* ---- options: --netdev tap,id=ID,ifname=NAME ---- */

/* QEMU properties accepted for compatibility when they mean "nothing". */
static int netdev_ignore_opt(struct opts *o, const char *key,
			     const char *only)
{
	const char *v = opts_get(o, key);

	if (v && strcmp(v, only)) {
		pr_err("--netdev %s: %s=%s is not supported (only %s)", o->type,
		       key, v, only);
		return -EINVAL;
	}
	return 0;
}

static int netdev_parse_one(struct vm *vm, const char *s)
{
	const char *id, *ifname;
	struct netdev *nd;
	struct opts o;
	int ret;

	ret = opts_parse(&o, "--netdev", s);
	if (ret)
		return ret;
	if (strcmp(o.type, "tap")) {
		pr_err("--netdev %s: backend type '%s' is not supported (tap only)",
		       s, o.type);
		return -EINVAL;
	}
	id = opts_get(&o, "id");
	ifname = opts_get(&o, "ifname");
	if (!id || !*id) {
		pr_err("--netdev %s: missing id=", s);
		return -EINVAL;
	}
	if (netdev_ignore_opt(&o, "script", "no") ||
	    netdev_ignore_opt(&o, "downscript", "no") ||
	    netdev_ignore_opt(&o, "vhost", "off") || opts_check_unused(&o))
		return -EINVAL;
	if (netdev_find(vm, id)) {
		pr_err("--netdev %s: duplicate id '%s'", s, id);
		return -EINVAL;
	}
	ret = netdev_tap_open(vm, id, ifname ? ifname : "", &nd);
	if (ret)
		return ret;
	return netdev_register(nd);
}

int netdev_init_all(struct vm *vm)
{
	int ret;

	for (unsigned i = 0; i < vm->cfg.nr_netdev_opts; i++) {
		ret = netdev_parse_one(vm, vm->cfg.netdev_opts[i]);
		if (ret) {
			netdev_close_all(vm);
			return ret;
		}
	}
	return 0;
}
