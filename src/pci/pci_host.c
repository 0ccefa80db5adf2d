// SPDX-License-Identifier: MIT
/*
 * The PCI host bridge: configuration mechanism #1 on ports 0xCF8/0xCFC,
 * bus 0 slots, routing to the buses behind root ports, firmware-style BAR
 * and window assignment and shared INTx lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/irq.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"
#include "pci/hotplug.h"
#include "pci/pci.h"
#include "pci/pci_bridge.h"
#include "pci/pci_host.h"
#include "pci/root_port.h"

#define PCI_CONFIG_ADDRESS	0xCF8
#define PCI_CONFIG_DATA		0xCFC
#define PCI_CFG_ENABLE		0x80000000U
/* Bits 30:24 are reserved (read as 0), 1:0 are always 0. */
#define PCI_CFG_ADDR_MASK	0x80FFFFFCU

/* ---- registers: configuration mechanism #1 ---- */

void pci_host_lock(struct pci_host *h)
{
	pthread_mutex_lock(&h->lock);
}

void pci_host_unlock(struct pci_host *h)
{
	pthread_mutex_unlock(&h->lock);
}

struct pci_dev *pci_host_dev(struct pci_host *h, unsigned devfn)
{
	return devfn < 256 ? h->devs[devfn] : NULL;
}

struct pci_dev *pci_host_find(struct pci_host *h, unsigned bus,
			      unsigned devfn)
{
	struct pci_dev *pd;

	if (bus > 255 || devfn > 255)
		return NULL;
	if (bus == 0)
		return h->devs[devfn];
	/* Bridges sit on bus 0 only; the first one claiming the bus wins. */
	for (unsigned i = 0; i < 256; i++)
		if (h->devs[i] && h->devs[i]->bridge &&
		    pci_bridge_route(h->devs[i]->bridge, bus, devfn, &pd))
			return pd;
	return NULL;
}

static void pci_host_data(struct pci_host *h, uint16_t port, uint8_t *data,
			  unsigned size, bool is_write)
{
	uint32_t a = h->cfg_addr;
	struct pci_dev *pd = NULL;
	unsigned reg = (a & 0xfc) + (port & 3);

	if (a & PCI_CFG_ENABLE)
		pd = pci_host_find(h, (a >> 16) & 0xff, (a >> 8) & 0xff);
	if (is_write) {
		if (pd)
			pci_cfg_write(pd, reg, le_read(data, size), size);
	} else {
		/* Nobody home: all ones, as a master abort reads. */
		le_write(data, size, pd ? pci_cfg_read(pd, reg, size) : ~0U);
	}
}

int pci_host_pio(struct pci_host *h, uint16_t port, void *data,
		 unsigned size, bool is_write)
{
	if (port == PCI_CONFIG_ADDRESS && size == 4) {
		pthread_mutex_lock(&h->lock);
		if (is_write)
			h->cfg_addr = le_read(data, 4) & PCI_CFG_ADDR_MASK;
		else
			le_write(data, 4, h->cfg_addr);
		pthread_mutex_unlock(&h->lock);
		return 0;
	}
	/* Narrow 0xCF8-0xCFB accesses are other registers (0xCF9 reset). */
	if (port < PCI_CONFIG_DATA || port > PCI_CONFIG_DATA + 3 ||
	    (port & 3) + size > 4)
		return -ENOENT;
	pthread_mutex_lock(&h->lock);
	pci_host_data(h, port, data, size, is_write);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* ---- INTx: GSIs 16-19 are shared, so the line is the OR of devices ---- */

void pci_host_intx_update(struct pci_dev *pd, bool level)
{
	struct pci_host *h = pd->host;
	unsigned pin = pd->cfg[PCI_INTERRUPT_PIN];
	unsigned gsi, i;
	bool edge;

	if (!h || pin < 1 || pin > 4)
		return;
	gsi = pci_intx_gsi(pd, pin);
	i = gsi - PCI_INTX_FIRST_GSI;
	pthread_mutex_lock(&h->intx_lock);
	if (level)
		edge = h->intx_count[i]++ == 0;
	else
		edge = h->intx_count[i] && --h->intx_count[i] == 0;
	if (edge && h->vm->vm_fd >= 0)
		irq_line(h->vm, gsi, level);
	pthread_mutex_unlock(&h->intx_lock);
}

int pci_intx_routes(struct vm *vm, struct pci_intx_route *out, int max)
{
	struct pci_host *h = vm->pci;
	int n = 0;

	if (!h)
		return 0;
	pthread_mutex_lock(&h->lock);
	for (unsigned devfn = 0; devfn < 256 && n < max; devfn++) {
		struct pci_dev *pd = h->devs[devfn];
		unsigned pin = pd ? pd->cfg[PCI_INTERRUPT_PIN] : 0;

		if (pin < 1 || pin > 4)
			continue;
		out[n++] = (struct pci_intx_route){
			.bus = 0, .dev = PCI_SLOT(devfn), .pin = pin - 1,
			.ioapic_pin = PCI_INTX_GSI(PCI_SLOT(devfn), pin - 1),
		};
	}
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* ---- device placement ---- */

int pci_assign_bar(struct pci_dev *pd, int i, struct pci_space *s)
{
	struct pci_bar *b = &pd->bars[i];
	unsigned off = PCI_BASE_ADDRESS_0 + 4 * i;
	uint32_t lo = pci_get_reg(pd, off, 4);
	uint64_t base, span = b->size;

	/* Whole pages for memory, so that no two BARs share one. */
	if (b->type != PCI_BAR_IO)
		span = MAX(b->size, GM_PAGE_SIZE);
	base = ALIGN_UP(s->next, span);
	if (base < s->next || base > s->end || span > s->end - base)
		return -ENOSPC;
	s->next = base + span;
	if (b->type == PCI_BAR_IO) {
		lo = (lo & ~PCI_BASE_ADDRESS_IO_MASK) | (uint32_t)base;
	} else {
		lo = (lo & ~PCI_BASE_ADDRESS_MEM_MASK) | (uint32_t)base;
		if (b->type == PCI_BAR_MEM64)
			le_write(&pd->cfg[off + 4], 4, base >> 32);
	}
	le_write(&pd->cfg[off], 4, lo);
	return 0;
}

static int pci_host_place(struct pci_host *h, struct pci_dev *pd)
{
	struct pci_space io = { h->io_next, PCI_IOPORT_END };
	struct pci_space mem = { h->mmio_next, PCI_MMIO_END };
	uint16_t cmd = pci_get_reg(pd, PCI_COMMAND, 2);
	unsigned pin = pd->cfg[PCI_INTERRUPT_PIN];
	int ret;

	for (int i = 0; i < PCI_NR_BARS; i++) {
		if (pd->bars[i].type == PCI_BAR_UNUSED)
			continue;
		ret = pci_assign_bar(pd, i, pd->bars[i].type == PCI_BAR_IO ?
					    &io : &mem);
		if (ret)
			return ret;
		cmd |= pd->bars[i].type == PCI_BAR_IO ? PCI_COMMAND_IO :
							PCI_COMMAND_MEMORY;
	}
	h->io_next = io.next;
	h->mmio_next = mem.next;
	le_write(&pd->cfg[PCI_COMMAND], 2, cmd);
	if (pin >= 1 && pin <= 4)
		pd->cfg[PCI_INTERRUPT_LINE] = pci_intx_gsi(pd, pin);
	return 0;
}

int pci_host_alloc_mmio(struct pci_host *h, uint64_t size, uint64_t *base)
{
	uint64_t b;
	int ret = -ENOSPC;

	pthread_mutex_lock(&h->lock);
	/* Windows are size-aligned (at least the 1 MiB granularity). */
	b = ALIGN_UP(h->mmio_next, MAX(size, 1ULL << 20));
	if (b < PCI_MMIO_END && size <= PCI_MMIO_END - b) {
		h->mmio_next = b + size;
		*base = b;
		ret = 0;
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

int pci_host_alloc_bridge_io(struct pci_host *h, uint64_t size,
			     uint64_t *base)
{
	uint64_t b;
	int ret = -ENOSPC;

	pthread_mutex_lock(&h->lock);
	b = ALIGN_UP((uint64_t)h->bridge_io_next, 0x1000);
	if (b < PCI_BRIDGE_IO_END && size <= PCI_BRIDGE_IO_END - b) {
		h->bridge_io_next = b + size;
		*base = b;
		ret = 0;
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

int pci_host_add_port(struct pci_host *h, struct pci_root_port *rp)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&h->lock);
	if (h->nr_ports < PCI_MAX_ROOT_PORTS) {
		h->ports[h->nr_ports++] = rp;
		ret = 0;
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

int pci_host_add(struct pci_host *h, struct pci_dev *pd, int slot)
{
	int ret = 0;

	pthread_mutex_lock(&h->lock);
	if (slot < 0) {
		for (slot = 1; slot < PCI_NR_SLOTS; slot++)
			if (!h->devs[PCI_DEVFN(slot, 0)])
				break;
	}
	if (slot <= 0 || slot >= PCI_NR_SLOTS) {
		ret = slot == 0 ? -EBUSY : -ENOSPC;
		goto unlock;
	}
	if (h->devs[PCI_DEVFN(slot, 0)]) {
		ret = -EBUSY;
		goto unlock;
	}
	pd->devfn = PCI_DEVFN(slot, 0);
	pd->host = h;
	ret = pci_host_place(h, pd);
	if (ret) {
		pd->host = NULL;
		goto unlock;
	}
	memcpy(pd->cfg_reset, pd->cfg, sizeof(pd->cfg));
	pci_update_bars(pd);
	h->devs[pd->devfn] = pd;
unlock:
	pthread_mutex_unlock(&h->lock);
	return ret;
}

void pci_host_remove(struct pci_host *h, struct pci_dev *pd)
{
	pthread_mutex_lock(&h->lock);
	if (pd->parent) {
		/* Normally gone from its slot already (hotplug.c); teardown. */
		if (pd->parent->bridge->child == pd)
			pci_bridge_set_child(pd->parent->bridge, NULL, false);
	} else if (h->devs[pd->devfn] == pd) {
		h->devs[pd->devfn] = NULL;
	}
	pci_unmap_bars(pd);
	pthread_mutex_unlock(&h->lock);
	pci_set_irq(pd, false);
	pd->host = NULL;
}

/* ---- state: the host bridge as a device ---- */

static struct pci_host *to_host(struct device *dev)
{
	return container_of(dev, struct pci_host, dev);
}

static const struct state_field pci_host_fields[] = {
	STATE_INT(struct pci_host, cfg_addr),
};

static const struct state_desc pci_host_desc =
	STATE_DESC("pci-host", 1, pci_host_fields);

static void pci_host_reset(struct device *dev)
{
	struct pci_host *h = to_host(dev);

	pthread_mutex_lock(&h->lock);
	h->cfg_addr = 0;
	pci_dev_reset(&h->bridge);
	pthread_mutex_unlock(&h->lock);
}

static int pci_host_save(struct device *dev, struct sbuf *out)
{
	struct pci_host *h = to_host(dev);
	int ret;

	pthread_mutex_lock(&h->lock);
	ret = state_save(&pci_host_desc, h, out);
	if (!ret)
		ret = pci_dev_save(&h->bridge, out);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static int pci_host_load(struct device *dev, struct sreader *in, char *err,
			 size_t errlen)
{
	struct pci_host *h = to_host(dev);
	uint32_t saved = h->cfg_addr;
	int ret;

	pthread_mutex_lock(&h->lock);
	ret = state_load(&pci_host_desc, h, in, err, errlen);
	if (!ret)
		h->cfg_addr &= PCI_CFG_ADDR_MASK;
	else
		h->cfg_addr = saved;
	if (!ret)
		ret = pci_dev_load(&h->bridge, in, err, errlen);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

/*
 * Migration destination: while device records arrive every BAR stays
 * unmapped (pci_update_bars), so at the end no device still holds a
 * firmware address another one was moved to; then one pass maps them all,
 * behind bridges too, from the loaded config space.
 */
/* With the host lock: fn on every function, bus 0 and behind bridges. */
static void for_each_function(struct pci_host *h, void (*fn)(struct pci_dev *))
{
	for (unsigned i = 0; i < 256; i++) {
		struct pci_dev *pd = h->devs[i];

		if (!pd)
			continue;
		fn(pd);
		if (pd->bridge && pd->bridge->child)
			fn(pd->bridge->child);
	}
}

static void pci_host_load_begin(struct device *dev)
{
	struct pci_host *h = to_host(dev);

	pthread_mutex_lock(&h->lock);
	h->bars_deferred = true;
	for_each_function(h, pci_unmap_bars);
	pthread_mutex_unlock(&h->lock);
}

static void pci_host_load_end(struct device *dev)
{
	struct pci_host *h = to_host(dev);

	pthread_mutex_lock(&h->lock);
	h->bars_deferred = false;
	for_each_function(h, pci_update_bars);
	pthread_mutex_unlock(&h->lock);
}

static void pci_host_nop(struct device *dev)
{
	/* Freed by pci_host_destroy(), after the devices on it. */
}

static const struct device_ops pci_host_ops = {
	.type = "pci-host",
	.reset = pci_host_reset,
	.pause = pci_host_nop,
	.resume = pci_host_nop,
	.save = pci_host_save,
	.load = pci_host_load,
	.load_begin = pci_host_load_begin,
	.load_end = pci_host_load_end,
	.destroy = pci_host_nop,
};

/* The VM's port I/O hook (vm.h): configuration mechanism #1. */
static int pci_host_pio_hook(void *opaque, uint16_t port, void *data,
			     unsigned size, bool is_write)
{
	return pci_host_pio(opaque, port, data, size, is_write);
}

int pci_host_create(struct vm *vm)
{
	struct pci_host *h = calloc(1, sizeof(*h));
	pthread_mutexattr_t attr;

	if (!h)
		return -ENOMEM;
	h->vm = vm;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&h->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&h->intx_lock, NULL);
	h->mmio_next = PCI_MMIO_BASE;
	h->io_next = PCI_IOPORT_BASE;
	h->bridge_io_next = PCI_BRIDGE_IO_BASE;
	snprintf(h->dev.id, sizeof(h->dev.id), "pci-host");
	h->dev.ops = &pci_host_ops;
	h->dev.vm = vm;

	pci_dev_init(&h->bridge, vm, "host-bridge", PCI_HOST_VENDOR,
		     PCI_HOST_DEVICE, PCI_CLASS_BRIDGE_HOST << 8, 0);
	h->bridge.host = h;
	h->bridge.devfn = PCI_DEVFN(0, 0);
	memcpy(h->bridge.cfg_reset, h->bridge.cfg, sizeof(h->bridge.cfg));
	h->devs[0] = &h->bridge;
	vm->pci = h;
	vm->pio_hook = pci_host_pio_hook;
	vm->pio_hook_opaque = h;
	return 0;
}

struct device *pci_host_device(struct pci_host *h)
{
	return &h->dev;
}

void pci_host_destroy(struct vm *vm)
{
	struct pci_host *h = vm->pci;

	if (!h)
		return;
	vm_remove_device(vm, &h->dev);	/* in case it was never destroyed */
	/* After every device: the ones behind root ports pointed at them. */
	pci_hotplug_free(h);
	for (unsigned i = 0; i < h->nr_ports; i++)
		root_port_free(h->ports[i]);
	vm->pci = NULL;
	vm->pio_hook = NULL;
	vm->pio_hook_opaque = NULL;
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->intx_lock);
	free(h);
}
