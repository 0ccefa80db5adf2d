/*
 * The failover device fo0: net_failover's pairing and transmit rules,
 * without its outage.
 *
 * A virtio-net that negotiated STANDBY creates fo0 when it registers: fo0
 * takes its MAC and its ip= address (the slaves carry none).  A PCI NIC
 * with the same MAC that binds later (pciehp) becomes the primary until
 * it is unbound.  Transmit goes through the primary while it is bound
 * and has carrier, else through the standby; frames received on either
 * slave go up the stack as fo0's.  A newly plugged primary without link
 * changes nothing: the standby keeps carrying traffic both ways until
 * the primary's carrier comes up (Linux drops standby traffic as soon as
 * the primary registers, hence its multi-second outage).  Every change
 * of the transmit path sends a gratuitous ARP on the new path, so the
 * fabric's bridges learn the new port at once.
 *
 * Locking.  A slave's data path holds the slave's lock (driver) and then
 * fo0's; a reply may have to leave through the other slave, whose lock
 * is then taken for that one frame.  The inner locks are only ever tried
 * for a bounded time (lock_bounded), so two paths holding one lock each
 * cannot deadlock, and ring 0 interrupting ring-3 code that holds a lock
 * on the same CPU cannot hang.  A timeout delays a received frame where
 * the poller has it (left in its ring, fo_rx_busy) and costs one frame,
 * counted, in ring 0 or for a frame fo0 itself sends.
 * fo->ctx names the slave whose lock the current fo0 lock holder already
 * has (NULL for callers holding none: the shell, failover_poll), so it is
 * not retried.
 */

#include <errno.h>
#include <net.h>
#include <printk.h>
#include <string.h>
#include <time.h>
#include <x86.h>

/* Longest wait for a contended lock: well above a ring-0 holder's time
 * for one frame (about 0.5 ms where ring 0 is emulated). */
#define LOCK_SPIN_US		2000
/* The same for ring-0 events (bind, link, release) while the poller runs
 * on another CPU: they would drop their work on a timeout, and their vCPU
 * may be preempted by the host while it spins, so allow for that; the
 * poller gives way to them meanwhile.  (A holder on this very CPU cannot
 * progress while we spin, so there the short bound applies.) */
#define LOCK_SPIN_R0_US		100000
/* How long the poller holds back for such a spinner, per frame. */
#define GIVE_WAY_US		300

struct failover {
	struct netif nif;
	struct netif *standby, *primary;
	struct netif *active;	/* transmit path; NULL = no usable slave */
	struct netif *ctx;	/* slave locked by the fo0 lock holder */
	struct netif *held;	/* other slave, locked for one frame */
	struct netif *tx_slave;	/* where the tx_alloc frame goes */
	bool created;
	bool update_pending;	/* an event found fo0 busy: redo the rules */
	/* An announce is owed: its path was busy, or ring 0 left it to the
	 * poller (fo_switched). */
	bool announce_pending;
	u64 switches, announces, busy;
	u64 held_back;		/* received frames left for the next pass */
};

static struct failover fo;

/*
 * Contexts spinning for fo0's lock; each may hold a slave's lock, which
 * fo0's holder may be trying to take: then it backs off (lock_slave).
 */
static volatile u32 fo_waiters;
/*
 * Ring-0 contexts spinning for fo0's lock.  The lock is not fair, and the
 * ring-3 poller, native where ring 0 is emulated, takes it again between
 * two frames long before an emulated spinner sees it free: without this,
 * a link or hot-plug event could starve while traffic flows.  Ring-3
 * lockers wait (bounded) while it is set.
 */
static volatile u32 fo_r0_wants;

/* Ring-3 safe: no cli, no printing.  give_way: stop when fo0 is wanted. */
static bool lock_bounded(struct spinlock *l, bool give_way, u64 us)
{
	return spin_lock_bounded(l, us * tsc_khz() / 1000,
				 give_way ? &fo_waiters : NULL);
}

/*
 * Ring 3: let a waiting ring-0 context have the lock first.  Briefly: a
 * running ring-0 spinner sees the lock free within microseconds, and if
 * the host has preempted its vCPU, every frame would wait the whole time.
 */
static void give_way_to_ring0(void)
{
	u64 limit = GIVE_WAY_US * tsc_khz() / 1000, start = rdtsc();

	while (READ_ONCE(fo_r0_wants) && rdtsc() - start < limit)
		cpu_relax();
}

/* fo0's lock, by a context that may hold a slave's; event: not a frame. */
static bool lock_fo(bool event)
{
	bool ring0 = current_cpl() == 0;
	u64 us = ring0 && event && net_poll_elsewhere() ? LOCK_SPIN_R0_US :
						       LOCK_SPIN_US;
	bool ok;

	__atomic_add_fetch(&fo_waiters, 1, __ATOMIC_SEQ_CST);
	if (ring0)
		__atomic_add_fetch(&fo_r0_wants, 1, __ATOMIC_SEQ_CST);
	else
		give_way_to_ring0();
	ok = lock_bounded(&fo.nif.lock, false, us);
	if (ring0)
		__atomic_sub_fetch(&fo_r0_wants, 1, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&fo_waiters, 1, __ATOMIC_SEQ_CST);
	return ok;
}

/* The other slave's lock, with fo0's held: an A-B/B-A pair resolves at
 * once (we give way, one frame is lost) instead of both timing out. */
static bool lock_slave(struct netif *s)
{
	return lock_bounded(&s->lock, true, LOCK_SPIN_US);
}

static bool usable(const struct netif *s)
{
	return s && !s->broken && s->carrier && !s->releasing;
}

static const char *path_name(const struct netif *s)
{
	if (!s)
		return "none";
	return s == fo.primary ? "primary" : "standby";
}

/* Flush and unlock the slave taken for a cross-path frame. */
static void fo_release(void)
{
	struct netif *s = fo.held;

	if (!s)
		return;
	fo.held = NULL;
	netif_tx_flush(s);
	spin_unlock(&s->lock);
}

/* ---- transmit (fo0's lock held) ---- */

/*
 * Lock the transmit path for one frame unless the caller holds it.  Busy
 * (ring 0 has it: binding, link, release), the frame is dropped, counted:
 * sending it out of the other slave instead would make the fabric's
 * bridges learn fo0's MAC on that port and flap between the two.  (A
 * received frame's replies find it held already: failover_rx.)
 */
static struct netif *fo_tx_path(void)
{
	struct netif *t = fo.active;

	if (!t || t == fo.ctx || t == fo.held)
		return t;
	fo_release();
	if (!lock_slave(t)) {
		fo.busy++;
		return NULL;
	}
	fo.held = t;
	return t;
}

static u8 *fo_tx_alloc(struct netif *nif __unused)
{
	struct netif *t;
	u8 *buf;

	t = fo_tx_path();
	if (!t)
		return NULL;
	fo.tx_slave = t;
	buf = netif_tx_alloc(t);
	if (!buf)
		fo_release();
	return buf;
}

static void fo_tx_send(struct netif *nif __unused, u8 *frame, size_t len)
{
	netif_tx_send(fo.tx_slave, frame, len);
	/* The path's own driver flushes ctx after its batch; others now. */
	fo_release();
}

static void fo_tx_flush(struct netif *nif __unused)
{
	fo_release();
	if (fo.ctx)
		return;
	/* Ring-0 callers: nobody else would tell the device. */
	if (fo.active && fo.active->tx_pending && lock_slave(fo.active)) {
		netif_tx_flush(fo.active);
		spin_unlock(&fo.active->lock);
	}
}

/* ---- the rules ---- */

/* Gratuitous ARP on the transmit path; retried (fo_catch_up) if the
 * path's lock was busy (its holder may be waiting for fo0's). */
static void fo_announce(void)
{
	fo.announce_pending = false;
	if (!fo.nif.ip || !fo.active)
		return;
	if (arp_announce(&fo.nif)) {
		fo.announce_pending = true;
		return;
	}
	fo.announces++;
	fo_release();
	if (fo.ctx)
		netif_tx_flush(fo.ctx);
}

/*
 * A new transmit path must be announced.  Ring 0 with a poller on an AP
 * leaves that to the poller (failover_poll): building and sending the
 * frame is hundreds of instructions, milliseconds where ring 0 is
 * emulated, all the while holding fo0's lock, which every frame on either
 * path needs; the poller does it natively within microseconds.
 *
 * The debt is recorded before the kick: a poller woken by it may already
 * be past its look at announce_pending (failover_poll reads it without
 * fo0's lock) and would sleep again with the announce owed until some
 * unrelated frame woke it.  After an orderly removal with no traffic, the
 * host's bridge, which had last seen the MAC on the removed primary's
 * port, kept sending there: the guest was deaf until its next event.  The
 * kick bumps the wake-up sequence after this store, so a poller that
 * missed the flag does not go to sleep.
 */
static void fo_switched(void)
{
	if (current_cpl() == 0) {
		__atomic_store_n(&fo.announce_pending, true, __ATOMIC_SEQ_CST);
		if (net_poll_kick())
			return;
	}
	fo_announce();
}

/*
 * A slave was asked to announce (virtio GUEST_ANNOUNCE after a migration):
 * the address is fo0's, so fo0 announces, through its transmit path.  The
 * caller holds the slave's lock, which that path may need: the poller (or
 * the next event) sends it, as for a path change.
 */
void failover_announce_soon(void)
{
	if (!fo.created)
		return;
	__atomic_store_n(&fo.announce_pending, true, __ATOMIC_SEQ_CST);
	if (current_cpl() == 0)
		net_poll_kick();
}

/* Pair a PCI NIC with fo0's MAC; only ctx, whose lock we hold. */
static void fo_pair(void)
{
	struct netif *s = fo.ctx;

	if (fo.primary && fo.primary->broken) {
		console_defer("%s: primary %s released\n", fo.nif.name,
			      fo.primary->name, NULL);
		fo.primary->master = NULL;
		fo.primary = NULL;
	}
	if (fo.primary || !s || s == fo.standby || s->standby || s->broken ||
	    !mac_eq(s->mac, fo.nif.mac))
		return;
	s->master = &fo.nif;
	fo.primary = s;
	console_defer("%s: primary %s paired (standby %s)\n", fo.nif.name,
		      s->name, fo.standby->name);
}

/* Re-apply pairing and the transmit rule; announce a new path. */
static void fo_update(void)
{
	struct netif *next;

	fo.update_pending = false;
	fo_pair();
	next = usable(fo.primary) ? fo.primary :
	       usable(fo.standby) ? fo.standby : NULL;
	fo.nif.carrier = next != NULL;
	if (next == fo.active)
		return;
	fo.active = next;
	fo.switches++;
	fo_switched();
	console_defer("%s: tx path -> %s (%s)\n", fo.nif.name, path_name(next),
		      next ? next->name : "-");
}

/* What an event or a busy path left undone; fo0 locked. */
static void fo_catch_up(void)
{
	if (fo.update_pending)
		fo_update();
	if (fo.announce_pending)
		fo_announce();
}

/* Driver: slave s was bound, lost or gained carrier, or broke (s locked;
 * ring 3 too: a poller that found its card gone). */
void failover_event(struct netif *s)
{
	if (!fo.created || s == &fo.nif)
		return;
	if (s != fo.standby && s != fo.primary && !mac_eq(s->mac, fo.nif.mac))
		return;
	if (!lock_fo(true)) {
		/* The poller applies it (failover_poll), without the line. */
		fo.update_pending = true;
		fo.busy++;
		return;
	}
	fo.ctx = s;
	fo_update();
	fo_release();
	fo.ctx = NULL;
	/* Its console lines are printed when a ring-0 caller unlocks s. */
	spin_unlock(&fo.nif.lock);
}

/*
 * fo0 or the transmit path is busy (ring 0 has it: binding, link,
 * release, printing).  The poller leaves the frame in its slave's ring and
 * offers it again on its next pass: a lock held for milliseconds delays
 * frames instead of losing them (a ring holds 128 or more).  Ring 0 may
 * be the interrupt that stopped the holder on this very CPU, or have no
 * next pass coming: it drops the frame, counted.
 */
static int fo_rx_busy(struct netif *s)
{
	fo.busy++;
	if (current_cpl() != 0) {
		fo.held_back++;
		return -EBUSY;
	}
	s->st.rx_dropped++;
	return 0;
}

/*
 * A frame on slave s (s locked; ring 3 when polled).  The transmit path is
 * locked before the frame is taken, while it can still wait: a reply that
 * found it busy later could only be dropped.
 */
int failover_rx(struct netif *s, const u8 *frame, size_t len)
{
	if (!lock_fo(false))
		return fo_rx_busy(s);
	fo.ctx = s;
	fo_catch_up();
	if (fo.active && !fo_tx_path()) {
		fo.ctx = NULL;
		spin_unlock(&fo.nif.lock);
		return fo_rx_busy(s);
	}
	fo.nif.st.rx_packets++;
	fo.nif.st.rx_bytes += len;
	eth_input(&fo.nif, frame, len);
	fo_release();
	/* Replies on s itself are flushed by s's driver after its batch. */
	fo.nif.tx_pending = false;
	fo.ctx = NULL;
	spin_unlock(&fo.nif.lock);
	return 0;
}

/* [ring 3] The poller's pass: apply what events left to it. */
int failover_poll(void)
{
	if (!READ_ONCE(fo.update_pending) && !READ_ONCE(fo.announce_pending))
		return 0;
	if (!lock_fo(false))
		return 1;
	fo_catch_up();
	spin_unlock(&fo.nif.lock);
	return 1;
}

/* ---- console ---- */

static void slave_line(const char *role, const struct netif *s)
{
	if (!s) {
		printf("    %s: none\n", role);
		return;
	}
	printf("    %s %s: %s, link %s, rx packets %llu, tx packets %llu\n",
	       role, s->name, s->kind,
	       s->broken ? "broken" : s->carrier ? "up" : "down",
	       s->st.rx_packets, s->st.tx_packets);
}

static void fo_show(struct netif *nif __unused)
{
	printf("    tx path %s (%s); switches %llu, announces %llu, busy %llu (held back %llu)\n",
	       path_name(fo.active), fo.active ? fo.active->name : "-",
	       fo.switches, fo.announces, fo.busy, fo.held_back);
	slave_line("standby", fo.standby);
	slave_line("primary", fo.primary);
}

/* Apply an update an event could not (fo0 was busy); fo0 locked. */
static void fo_check(struct netif *nif __unused)
{
	fo_catch_up();
}

void failover_cmd(int argc __unused, char **argv __unused)
{
	char ip[16];
	u64 flags;

	if (!fo.created) {
		printf("no failover device (no virtio-net with STANDBY)\n");
		return;
	}
	flags = netif_lock(&fo.nif);
	fo_check(&fo.nif);
	netif_unlock(&fo.nif, flags);
	printf("%s: failover, inet %s/%u\n", fo.nif.name,
	       fo.nif.ip ? ip_str(fo.nif.ip, ip) : "none", fo.nif.prefix);
	fo_show(&fo.nif);
}

static const struct netif_ops fo_ops = {
	.tx_alloc = fo_tx_alloc,
	.tx_send = fo_tx_send,
	.tx_flush = fo_tx_flush,
	.check = fo_check,
	.show = fo_show,
};

/* A primary bound before its standby registered (not the boot order). */
static void fo_pair_existing(void)
{
	unsigned int i;
	u64 flags;

	for (i = 0; i < netif_count() && !fo.primary; i++) {
		struct netif *s = netif_get(i);

		if (s == &fo.nif || s == fo.standby)
			continue;
		flags = netif_lock(s);
		fo.ctx = s;
		fo_update();
		fo.ctx = NULL;
		netif_unlock(s, flags);
	}
}

/* netif_register: standby s just registered; fo0 takes its identity. */
void failover_create(struct netif *s)
{
	if (fo.created) {
		pr_warn("%s: STANDBY, but %s already pairs %s: not paired\n",
			s->name, fo.nif.name, fo.standby->name);
		return;
	}
	memcpy(fo.nif.mac, s->mac, ETH_ALEN);
	fo.nif.ip = s->ip;
	fo.nif.mask = s->mask;
	fo.nif.prefix = s->prefix;
	fo.nif.index = s->index;	/* its address comes from s's ip= */
	s->ip = 0;
	s->mask = 0;
	s->prefix = 0;
	fo.nif.kind = "failover";
	fo.nif.ops = &fo_ops;
	fo.nif.priv = &fo;
	if (netif_register_named(&fo.nif, "fo0"))
		return;
	fo.standby = s;
	s->master = &fo.nif;
	fo.created = true;
	fo.active = usable(s) ? s : NULL;
	fo.nif.carrier = fo.active != NULL;
	pr_info("%s: failover device, standby %s\n", fo.nif.name, s->name);
	fo_pair_existing();
}
