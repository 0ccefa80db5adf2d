// SPDX-License-Identifier: MIT
/*
 * MSI-X capability, vector table and pending bit array.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/irq.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "pci/msix.h"
#include "pci/pci.h"

#define MSIX_ROUTE_NONE		(-1)
#define MSIX_ROUTE_BROKEN	(-2)	/* setup failed: use KVM_SIGNAL_MSI */

/* ---- registers ---- */

static uint8_t *msix_entry(struct msix *m, unsigned vec)
{
	return &m->table[vec * MSIX_ENTRY_SIZE];
}

static bool entry_masked(struct msix *m, unsigned vec)
{
	return le_read(msix_entry(m, vec) + PCI_MSIX_ENTRY_VECTOR_CTRL, 4) &
	       PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

static bool pba_test(struct msix *m, unsigned vec)
{
	return m->pba[vec / 64] & (1ULL << (vec % 64));
}

static void pba_set(struct msix *m, unsigned vec, bool on)
{
	if (on)
		m->pba[vec / 64] |= 1ULL << (vec % 64);
	else
		m->pba[vec / 64] &= ~(1ULL << (vec % 64));
}

/* The table and PBA take naturally aligned dwords and qwords. */
static const struct bus_ops msix_bar_ops = {
	.read = msix_bar_read, .write = msix_bar_write,
	.min_size = 4, .max_size = 8,
};

int msix_init(struct msix *m, struct pci_dev *pd, unsigned nr, int bar)
{
	int cap, ret;

	if (!nr || nr > MSIX_MAX_VECTORS)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->pd = pd;
	m->nr = nr;
	m->bar = bar;
	pthread_mutex_init(&m->lock, NULL);
	for (unsigned i = 0; i < MSIX_MAX_VECTORS; i++)
		m->routes[i] = (struct msix_route){ .gsi = MSIX_ROUTE_NONE,
						    .fd = -1 };
	ret = pci_bar_init(pd, bar, PCI_BAR_MEM32, false, MSIX_BAR_SIZE,
			   &msix_bar_ops, m, "msix");
	if (ret)
		return ret;
	cap = pci_cap_add(pd, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (cap < 0)
		return cap;
	m->cap = cap;
	pci_set_reg(pd, cap + PCI_MSIX_FLAGS, 2, nr - 1,
		    PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0);
	pci_set_reg(pd, cap + PCI_MSIX_TABLE, 4, bar, 0, 0);
	pci_set_reg(pd, cap + PCI_MSIX_PBA, 4, MSIX_PBA_OFFSET | bar, 0, 0);
	pd->msix = m;
	msix_reset(m);
	return 0;
}

/* ---- delivery ---- */

static int msix_route_setup(struct msix *m, struct msix_route *r,
			    uint64_t addr, uint32_t data)
{
	struct vm *vm = m->pd->vm;
	int fd, gsi, ret;

	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	gsi = irq_msi_route_alloc(vm, addr, data);
	if (gsi < 0) {
		ret = gsi;
		goto close_fd;
	}
	ret = irq_irqfd_assign(vm, fd, gsi, -1);
	if (ret)
		goto free_route;
	*r = (struct msix_route){ .gsi = gsi, .fd = fd, .addr = addr,
				  .data = data };
	return 0;

free_route:
	irq_msi_route_free(vm, gsi);
close_fd:
	close(fd);
	return ret;
}

static void msix_kvm_deliver(struct msix *m, unsigned vec, uint64_t addr,
			     uint32_t data)
{
	struct msix_route *r = &m->routes[vec];
	struct vm *vm = m->pd->vm;
	uint64_t one = 1;

	if (!vm || !vm->irq)
		return;		/* no KVM (unit tests without a hook) */
	if (r->gsi == MSIX_ROUTE_NONE && msix_route_setup(m, r, addr, data)) {
		pr_warn("msix %s: no irqfd route, using KVM_SIGNAL_MSI",
			m->pd->name);
		r->gsi = MSIX_ROUTE_BROKEN;
	}
	if (r->gsi < 0)
		goto signal;
	if (r->addr != addr || r->data != data) {
		if (irq_msi_route_update(vm, r->gsi, addr, data))
			goto signal;
		r->addr = addr;
		r->data = data;
	}
	if (write(r->fd, &one, sizeof(one)) == sizeof(one))
		return;
signal:
	irq_msi(vm, addr, data);
}

/* With m->lock held. */
static void msix_fire(struct msix *m, unsigned vec)
{
	const uint8_t *e = msix_entry(m, vec);
	uint64_t addr = le_read(e + PCI_MSIX_ENTRY_LOWER_ADDR, 4) |
			le_read(e + PCI_MSIX_ENTRY_UPPER_ADDR, 4) << 32;
	uint32_t data = le_read(e + PCI_MSIX_ENTRY_DATA, 4);

	m->fired++;
	if (m->deliver)
		m->deliver(m, vec, addr, data);
	else
		msix_kvm_deliver(m, vec, addr, data);
}

/* With m->lock held: fire what is pending and no longer masked. */
static void msix_flush_pending(struct msix *m)
{
	if (!m->enabled || m->fmask)
		return;
	for (unsigned v = 0; v < m->nr; v++) {
		if (pba_test(m, v) && !entry_masked(m, v)) {
			pba_set(m, v, false);
			msix_fire(m, v);
		}
	}
}

void msix_notify(struct msix *m, unsigned vec)
{
	if (vec >= m->nr)
		return;
	pthread_mutex_lock(&m->lock);
	if (m->enabled) {
		if (m->fmask || entry_masked(m, vec))
			pba_set(m, vec, true);
		else
			msix_fire(m, vec);
	}
	pthread_mutex_unlock(&m->lock);
}

bool msix_enabled(struct msix *m)
{
	return m && __atomic_load_n(&m->enabled, __ATOMIC_ACQUIRE);
}

bool msix_is_masked(struct msix *m, unsigned vec)
{
	bool ret;

	pthread_mutex_lock(&m->lock);
	ret = vec >= m->nr || m->fmask || entry_masked(m, vec);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

bool msix_is_pending(struct msix *m, unsigned vec)
{
	bool ret;

	pthread_mutex_lock(&m->lock);
	ret = vec < m->nr && pba_test(m, vec);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

void msix_config_changed(struct msix *m)
{
	uint16_t ctl = le_read(&m->pd->cfg[m->cap + PCI_MSIX_FLAGS], 2);

	pthread_mutex_lock(&m->lock);
	__atomic_store_n(&m->enabled, !!(ctl & PCI_MSIX_FLAGS_ENABLE),
			 __ATOMIC_RELEASE);
	m->fmask = ctl & PCI_MSIX_FLAGS_MASKALL;
	msix_flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	memset(m->table, 0, sizeof(m->table));
	memset(m->pba, 0, sizeof(m->pba));
	for (unsigned v = 0; v < m->nr; v++)
		le_write(msix_entry(m, v) + PCI_MSIX_ENTRY_VECTOR_CTRL, 4,
			 PCI_MSIX_ENTRY_CTRL_MASKBIT);
	m->enabled = false;
	m->fmask = false;
	pthread_mutex_unlock(&m->lock);
}

void msix_destroy(struct msix *m)
{
	struct vm *vm = m->pd ? m->pd->vm : NULL;

	for (unsigned v = 0; v < MSIX_MAX_VECTORS; v++) {
		struct msix_route *r = &m->routes[v];

		if (r->gsi >= 0) {
			irq_irqfd_deassign(vm, r->fd, r->gsi);
			irq_msi_route_free(vm, r->gsi);
		}
		if (r->fd >= 0)
			close(r->fd);
		*r = (struct msix_route){ .gsi = MSIX_ROUTE_NONE, .fd = -1 };
	}
	pthread_mutex_destroy(&m->lock);
}

/* ---- I/O handlers: the table/PBA BAR ---- */

uint64_t msix_bar_read(void *opaque, uint64_t off, unsigned size)
{
	struct msix *m = opaque;
	uint64_t table_len = m->nr * MSIX_ENTRY_SIZE, v = 0;

	pthread_mutex_lock(&m->lock);
	if (off + size <= table_len)
		v = le_read(&m->table[off], size);
	else if (off >= MSIX_PBA_OFFSET &&
		 off + size <= MSIX_PBA_OFFSET + sizeof(m->pba))
		v = le_read((uint8_t *)m->pba + (off - MSIX_PBA_OFFSET), size);
	pthread_mutex_unlock(&m->lock);
	return v;
}

void msix_bar_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct msix *m = opaque;
	uint64_t table_len = m->nr * MSIX_ENTRY_SIZE;
	unsigned first, last;

	/* The PBA is read-only; writes past the table go nowhere. */
	if (off + size > table_len)
		return;
	first = off / MSIX_ENTRY_SIZE;
	last = (off + size - 1) / MSIX_ENTRY_SIZE;
	pthread_mutex_lock(&m->lock);
	le_write(&m->table[off], size, val);
	/* An unmask with a pending bit fires now (PCI spec 6.8.3.4). */
	for (unsigned v = first; v <= last; v++) {
		if (m->enabled && !m->fmask && !entry_masked(m, v) &&
		    pba_test(m, v)) {
			pba_set(m, v, false);
			msix_fire(m, v);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

/* ---- state ---- */

static const struct state_field msix_fields[] = {
	STATE_BYTES(struct msix, table),
	STATE_INT_ARRAY(struct msix, pba),
};

static const struct state_desc msix_desc = STATE_DESC("msix", 1, msix_fields);

int msix_save(struct msix *m, struct sbuf *out)
{
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = state_save(&msix_desc, m, out);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

int msix_load(struct msix *m, struct sreader *in, char *err, size_t errlen)
{
	struct msix tmp;
	int ret;

	ret = state_load(&msix_desc, &tmp, in, err, errlen);
	if (ret)
		return ret;
	for (unsigned v = m->nr; v < MSIX_MAX_VECTORS; v++) {
		if (pba_test(&tmp, v)) {
			if (err)
				snprintf(err, errlen,
					 "msix %s: pending bit %u beyond %u vectors",
					 m->pd->name, v, m->nr);
			return -EINVAL;
		}
	}
	pthread_mutex_lock(&m->lock);
	memcpy(m->table, tmp.table, sizeof(m->table));
	memset(m->table + m->nr * MSIX_ENTRY_SIZE, 0,
	       sizeof(m->table) - m->nr * MSIX_ENTRY_SIZE);
	memcpy(m->pba, tmp.pba, sizeof(m->pba));
	pthread_mutex_unlock(&m->lock);
	msix_config_changed(m);
	return 0;
}
