/* SPDX-License-Identifier: MIT */
#ifndef FVMM_DEV_E1000_H
#define FVMM_DEV_E1000_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/device.h"
#include "dev/e1000_regs.h"
#include "pci/pci.h"

/*
 * Intel 82540EM ("e1000"), the primary NIC of virtio-net failover, modelled
 * from the register set as Linux's e1000 driver uses it: Microwire EEPROM
 * (and EERD), MDIC to an M88E1011 PHY, legacy receive descriptors, legacy
 * and extended (context + data) transmit descriptors with checksum offload
 * and TCP segmentation done in software, legacy INTx.
 *
 * BAR0 is the 128 KiB register file, BAR1 the 64-byte I/O window
 * (IOADDR/IODATA) that Linux uses for the reset write on this part.
 *
 * Threads: register accesses arrive on vCPU threads, the datapath runs on
 * the event loop (transmit after a kick through an eventfd, receive when the
 * backend is readable).  e->lock serialises both; it is taken before a PCI
 * device's intx_lock and never held across evloop_del().
 *
 * What a guest driver must know (the 82540's rules, as Linux follows them):
 * STATUS.LU needs CTRL.SLU as well as PHY link; received lengths include
 * the 4-byte FCS unless RCTL.SECRC (Linux subtracts 4); receive status
 * always has IXSM (no checksum verdict); interrupts are INTx only, level,
 * (ICR & IMS) != 0, cleared by reading ICR.
 *
 * The files: e1000.c (registers, EEPROM, PHY, interrupts, BAR handlers),
 * e1000_tx.c, e1000_rx.c (datapath), e1000_dev.c (backend glue, state
 * record, device ops, options, create/destroy).
 */

struct vm;
struct opts;
struct netdev;

/*
 * Plain registers: stored as written (under a mask), saved in the record.
 * The order is the record's layout: append only, and bump its version.
 */
enum e1000_reg {
	R_CTRL, R_STATUS, R_EECD, R_EERD, R_CTRL_EXT, R_FLA, R_MDIC,
	R_FCAL, R_FCAH, R_FCT, R_VET, R_ICR, R_ITR, R_IMS, R_RCTL,
	R_FCTTV, R_TXCW, R_RXCW, R_TCTL, R_TIPG, R_LEDCTL, R_PBA,
	R_FCRTL, R_FCRTH, R_RDFH, R_RDFT, R_RDFHS, R_RDFTS, R_RDFPC,
	R_RDBAL, R_RDBAH, R_RDLEN, R_RDH, R_RDT, R_RDTR, R_RXDCTL, R_RADV,
	R_RSRPD, R_TXDMAC, R_TDFH, R_TDFT, R_TDFHS, R_TDFTS, R_TDFPC,
	R_TDBAL, R_TDBAH, R_TDLEN, R_TDH, R_TDT, R_TIDV, R_TXDCTL, R_TADV,
	R_TSPMT, R_RXCSUM, R_WUC, R_WUFC, R_WUS, R_MANC,
	E1000_NR_REGS
};

/* Transmit offload context (from the last context descriptor). */
struct e1000_tx_ctx {
	uint8_t ipcss, ipcso, tucss, tucso;
	uint16_t ipcse, tucse;
	uint32_t paylen;
	uint8_t tucmd, hdr_len;
	uint16_t mss;
};

/* What --device / device_add ask for. */
struct e1000_params {
	char id[64];
	char netdev[64];
	uint8_t mac[6];
	char failover_pair_id[64];	/* "" = not a failover primary */
	char bus[64];			/* "" = bus 0 of the host bridge */
	int slot;			/* -1 = first free */
};

/* Frames and bytes as the host sees them (not guest-visible). */
struct e1000_counters {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_filtered;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
};

struct e1000 {
	struct device dev;
	struct pci_dev pci;
	struct e1000_params params;
	struct netdev *nd;
	pthread_mutex_t lock;
	int kick_fd;			/* loop: run transmit, retry receive */
	bool kick_registered;
	bool kick_pending;

	/* ---- guest-visible state (under lock, in the state record) ---- */
	uint32_t r[E1000_NR_REGS];
	uint32_t mta[E1000_MTA_SIZE];
	uint32_t vfta[E1000_VFTA_SIZE];
	uint32_t ra[2 * E1000_RA_ENTRIES];
	uint32_t stats[E1000_NR_STATS];
	uint32_t ioaddr;
	uint16_t eeprom[E1000_EEPROM_WORDS];
	uint16_t phy[E1000_PHY_REGS];
	/* Microwire: bits clocked in while CS is high, then the word out. */
	uint16_t mw_in;
	uint8_t mw_bits;
	uint8_t mw_addr;
	uint8_t mw_out;			/* data bits already clocked out */
	bool mw_reading;
	bool mw_do;
	bool link_host;			/* carrier from the host (set_link) */
	struct e1000_tx_ctx tx_ctx;

	/* ---- datapath (under lock, not saved) ---- */
	bool paused;
	bool started;
	bool rx_polling;		/* backend readable callbacks on */
	bool rx_blocked;		/* waiting for receive descriptors */
	bool tx_waiting;		/* backend full: waiting for EPOLLOUT */
	bool warned_unknown;
	uint8_t *rx_buf;		/* vnet header + frame + CRC */
	size_t rx_len;			/* pending frame length, 0 = none */
	size_t rx_off;			/* bytes of it already in descriptors */
	uint16_t rx_special;		/* stripped VLAN tag of the pending frame */
	uint16_t rx_csum;		/* its packet checksum */
	uint8_t rx_status;		/* extra status bits (VP) of it */
	uint8_t *tx_buf;		/* one packet, gathered */
	uint8_t *tx_seg;		/* one TSO segment header */
	uint64_t tx_frames;		/* frames handed to the backend */
	struct e1000_counters cnt;
};

/* Largest frame the receive path takes (LPE), without CRC. */
#define E1000_RX_MAX		16384
/* Largest packet gathered for transmit: a 64 KiB TSO packet + headers. */
#define E1000_TX_MAX		(65536 + 512)
/* Frames handled per event-loop callback before yielding. */
#define E1000_RX_BUDGET		64
#define E1000_TX_BUDGET		256
/* TSO segments of one packet, at the most (64 KiB at a 32-byte MSS). */
#define E1000_TSO_MAX_SEGS	2048
#define E1000_VNET_HDR_MAX	32

/* ---- lifetime (e1000_dev.c) ---- */

/*
 * --device e1000,id=ID,netdev=ND[,mac=MAC][,failover_pair_id=ID]
 *                [,bus=pci.0][,addr=SLOT]
 * Parses, builds the NIC on bus 0 of the host bridge and adds it to the
 * VM: the driver-table entry.  A bus= other than pci.0 is refused here; a
 * hotplug bus builds the NIC with e1000_parse() + e1000_new() and places it
 * itself.  -EINVAL after one pr_err line.
 */
int e1000_create(struct vm *vm, struct opts *o);
/* Validate options into p (no side effects).  -EINVAL after pr_err. */
int e1000_parse(struct vm *vm, struct opts *o, struct e1000_params *p);
/*
 * Build the NIC on backend nd (claimed here) without putting it on a bus.
 * Next: place e->pci (pci_host_add or a root port), e1000_start(), then
 * vm_add_device(vm, &e->dev).
 */
int e1000_new(struct vm *vm, const struct e1000_params *p, struct netdev *nd,
	      struct e1000 **out);
/* Register the kick eventfd on vm->loop and start receiving.  -errno. */
int e1000_start(struct e1000 *e);
/*
 * Take the NIC off its bus, release the backend and free it (also the
 * device_ops destroy).  Not with e->lock held; the caller removes e->dev
 * from the VM's list first if it was added.
 */
void e1000_destroy(struct e1000 *e);
struct e1000 *e1000_find(struct vm *vm, const char *id);
struct e1000 *e1000_from_device(struct device *dev);	/* NULL if another */

/* ---- host-side controls (e1000_dev.c) ---- */

/* Carrier as the guest sees it: STATUS.LU, PHY link, LSC interrupt. */
int e1000_set_link(struct e1000 *e, bool up);
/* Send a RARP for the current MAC on the backend (fabric learns the port). */
int e1000_announce(struct e1000 *e);
/* Current receive address 0 (what the guest programmed, else the EEPROM). */
void e1000_get_mac(struct e1000 *e, uint8_t mac[6]);
/* Host-side counters, consistent snapshot. */
void e1000_get_counters(struct e1000 *e, struct e1000_counters *c);

/* ---- registers and I/O handlers (e1000.c), exposed for tests ---- */

uint64_t e1000_mmio_read(void *opaque, uint64_t off, unsigned size);
void e1000_mmio_write(void *opaque, uint64_t off, uint64_t val,
		      unsigned size);
uint64_t e1000_io_read(void *opaque, uint64_t off, unsigned size);
void e1000_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size);
/* What a kick runs on the loop: transmit, then receive.  For tests too. */
void e1000_poll(struct e1000 *e);

/* ---- between the model's files (lock held unless said otherwise) ---- */

/* Power-on values of everything guest-visible, EEPROM from e->params. */
void e1000_reset_regs(struct e1000 *e);
void e1000_eeprom_init(uint16_t *eeprom, const uint8_t mac[6]);
void e1000_update_irq(struct e1000 *e);
void e1000_raise(struct e1000 *e, uint32_t cause);
/* Recompute STATUS.LU and the PHY link bits; LSC on a change. */
void e1000_link_update(struct e1000 *e);
/* Ask the loop to run e1000_poll() soon (any thread, lock not needed). */
void e1000_kick(struct e1000 *e);
void e1000_stat_add(struct e1000 *e, unsigned reg, uint64_t n);
/* Descriptor ring geometry; false (with a guest warning) if unusable. */
bool e1000_ring_ok(struct e1000 *e, bool tx, uint32_t *n);
uint64_t e1000_ring_base(struct e1000 *e, bool tx);

void e1000_tx_run(struct e1000 *e);
void e1000_rx_run(struct e1000 *e);
void e1000_rx_poll(struct e1000 *e, bool on);
/* Forget a partly delivered frame (ring reprogrammed, receiver off). */
void e1000_rx_reset(struct e1000 *e);
/* Destination filter (RAL/RAH, MTA, UPE/MPE/BAM). */
bool e1000_rx_accept(struct e1000 *e, const uint8_t *frame, size_t len);
uint32_t e1000_crc32(const uint8_t *p, size_t len);
/* Internet checksum helpers (e1000_tx.c). */
uint32_t e1000_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t e1000_csum_fold(uint32_t sum);

static inline uint16_t e1000_be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static inline void e1000_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

#endif
