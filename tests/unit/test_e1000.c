// SPDX-License-Identifier: MIT
/*
 * e1000 (82540EM) registers: PCI identity, EEPROM through EERD and
 * Microwire bit-banging as Linux's e1000 driver does it, MDIC/PHY,
 * interrupt causes and INTx, link and LSC, the I/O BAR, the state record,
 * and --device options.  The datapath is in test_e1000_datapath.c.
 */
#include "test_e1000_bench.h"

#include "pci/opts.h"

static int setup(void **state)
{
	e1000_bench_new(state, 0);
	return 0;
}

/* ---- PCI identity ---- */

static void test_pci_identity(void **state)
{
	struct t *t = *state;
	struct pci_dev *pd = &t->e->pci;

	assert_int_equal(pci_cfg_read(pd, PCI_VENDOR_ID, 4), 0x100E8086);
	assert_int_equal(pci_cfg_read(pd, PCI_CLASS_REVISION, 4) >> 8,
			 0x020000);
	assert_int_equal(pci_cfg_read(pd, PCI_SUBSYSTEM_VENDOR_ID, 4),
			 0x001E8086);
	assert_int_equal(pci_cfg_read(pd, PCI_INTERRUPT_PIN, 1), 1);
	/* BAR sizing: 128 KiB memory, 64 bytes of I/O. */
	pci_cfg_write(pd, PCI_BASE_ADDRESS_0, ~0U, 4);
	assert_int_equal(pci_cfg_read(pd, PCI_BASE_ADDRESS_0, 4), 0xFFFE0000);
	pci_cfg_write(pd, PCI_BASE_ADDRESS_1, ~0U, 4);
	assert_int_equal(pci_cfg_read(pd, PCI_BASE_ADDRESS_1, 4), 0xFFFFFFC1);
}

/* ---- EEPROM ---- */

static uint16_t eerd_read(struct t *t, unsigned addr)
{
	uint32_t v;

	w(t, E1000_EERD, addr << E1000_EERD_ADDR_SHIFT | E1000_EERD_START);
	v = r(t, E1000_EERD);
	assert_true(v & E1000_EERD_DONE);
	return v >> E1000_EERD_DATA_SHIFT;
}

static void test_eeprom_eerd(void **state)
{
	struct t *t = *state;
	uint16_t sum = 0;

	for (unsigned i = 0; i < 64; i++)
		sum += eerd_read(t, i);
	assert_int_equal(sum, E1000_EEPROM_SUM);
	assert_int_equal(eerd_read(t, 0), 0x5452);
	assert_int_equal(eerd_read(t, 1), 0xaa00);
	assert_int_equal(eerd_read(t, 2), 0xccbb);
	assert_int_equal(eerd_read(t, E1000_EEPROM_DEVID), E1000_DEVICE);
}

/* The Linux e1000 driver's Microwire sequence, step by step. */
static void ee_clock(struct t *t, uint32_t *eecd)
{
	w(t, E1000_EECD, *eecd | E1000_EECD_SK);
	*eecd = r(t, E1000_EECD) & ~E1000_EECD_SK;
	w(t, E1000_EECD, *eecd);
}

static void ee_out(struct t *t, uint32_t *eecd, uint16_t data, int count)
{
	for (int i = count - 1; i >= 0; i--) {
		*eecd &= ~(E1000_EECD_DI | E1000_EECD_DO);
		if (data >> i & 1)
			*eecd |= E1000_EECD_DI;
		w(t, E1000_EECD, *eecd);
		w(t, E1000_EECD, *eecd | E1000_EECD_SK);
		w(t, E1000_EECD, *eecd);
	}
	*eecd &= ~E1000_EECD_DI;
	w(t, E1000_EECD, *eecd);
}

static uint16_t ee_in(struct t *t, uint32_t *eecd)
{
	uint16_t data = 0;

	*eecd &= ~(E1000_EECD_DO | E1000_EECD_DI);
	for (int i = 0; i < 16; i++) {
		w(t, E1000_EECD, *eecd | E1000_EECD_SK);
		data = data << 1 | !!(r(t, E1000_EECD) & E1000_EECD_DO);
		w(t, E1000_EECD, *eecd);
	}
	return data;
}

static uint16_t microwire_read(struct t *t, unsigned addr)
{
	uint32_t eecd = r(t, E1000_EECD);
	uint16_t v;

	assert_true(eecd & E1000_EECD_PRES);
	assert_false(eecd & E1000_EECD_SIZE);	/* 64 words, 6 address bits */
	eecd |= E1000_EECD_REQ;
	w(t, E1000_EECD, eecd);
	assert_true(r(t, E1000_EECD) & E1000_EECD_GNT);
	eecd &= ~(E1000_EECD_DI | E1000_EECD_SK);
	w(t, E1000_EECD, eecd);
	eecd |= E1000_EECD_CS;
	w(t, E1000_EECD, eecd);
	ee_out(t, &eecd, E1000_EEPROM_READ_OP, 3);
	ee_out(t, &eecd, addr, 6);
	v = ee_in(t, &eecd);
	/* Standby, then release. */
	eecd &= ~(E1000_EECD_CS | E1000_EECD_SK);
	w(t, E1000_EECD, eecd);
	ee_clock(t, &eecd);
	eecd &= ~E1000_EECD_REQ;
	w(t, E1000_EECD, eecd);
	return v;
}

static void test_eeprom_microwire(void **state)
{
	struct t *t = *state;
	uint16_t sum = 0;

	for (unsigned i = 0; i < 64; i++)
		sum += microwire_read(t, i);
	assert_int_equal(sum, E1000_EEPROM_SUM);
	assert_int_equal(microwire_read(t, 0), 0x5452);
	assert_int_equal(microwire_read(t, 2), 0xccbb);
	assert_int_equal(microwire_read(t, E1000_EEPROM_VENID), E1000_VENDOR);
	/* Garbage clocked in with CS low changes nothing. */
	w(t, E1000_EECD, E1000_EECD_SK | E1000_EECD_DI);
	w(t, E1000_EECD, 0);
	assert_int_equal(microwire_read(t, 1), 0xaa00);
}

/* ---- PHY ---- */

static int phy_rw(struct t *t, unsigned phy, unsigned reg, bool write,
		  uint16_t val, uint16_t *out)
{
	uint32_t m = (write ? E1000_MDIC_OP_WRITE : E1000_MDIC_OP_READ) |
		     phy << E1000_MDIC_PHY_SHIFT |
		     reg << E1000_MDIC_REG_SHIFT | val;

	w(t, E1000_MDIC, m);
	m = r(t, E1000_MDIC);
	assert_true(m & E1000_MDIC_READY);
	if (out)
		*out = m;
	return m & E1000_MDIC_ERROR ? -EIO : 0;
}

static uint16_t phy_read(struct t *t, unsigned reg)
{
	uint16_t v;

	assert_int_equal(phy_rw(t, 1, reg, false, 0, &v), 0);
	return v;
}

static void test_mdic_phy(void **state)
{
	struct t *t = *state;

	assert_int_equal(phy_read(t, MII_PHYID1), 0x0141);
	assert_int_equal(phy_read(t, MII_PHYID2) & 0xFFF0, 0x0C20);
	/* The PHY has link even before the MAC is told to use it. */
	assert_true(phy_read(t, MII_STATUS) & MII_SR_LINK);
	assert_true(phy_read(t, MII_STATUS) & MII_SR_AN_COMPLETE);
	assert_int_equal(phy_read(t, M88_SPEC_STATUS) & 0xC000, 0x8000);
	/* Writable registers keep values; status ignores writes. */
	assert_int_equal(phy_rw(t, 1, MII_ADV, true, 0x0DE1, NULL), 0);
	assert_int_equal(phy_read(t, MII_ADV), 0x0DE1);
	phy_rw(t, 1, MII_STATUS, true, 0, NULL);
	assert_true(phy_read(t, MII_STATUS) & MII_SR_LINK);
	/* Restart and software reset self-clear; the reset keeps settings. */
	phy_rw(t, 1, MII_CTRL, true, MII_CR_AN_EN | MII_CR_RESTART_AN, NULL);
	assert_false(phy_read(t, MII_CTRL) & MII_CR_RESTART_AN);
	phy_rw(t, 1, MII_CTRL, true, MII_CR_AN_EN | MII_CR_RESET, NULL);
	assert_int_equal(phy_read(t, MII_ADV), 0x0DE1);
	assert_false(phy_read(t, MII_CTRL) & MII_CR_RESET);
	/* A hardware reset (CTRL.PHY_RST pulse) restores power-on values. */
	w(t, E1000_CTRL, r(t, E1000_CTRL) | E1000_CTRL_PHY_RST);
	w(t, E1000_CTRL, r(t, E1000_CTRL) & ~E1000_CTRL_PHY_RST);
	assert_int_equal(phy_read(t, MII_ADV), 0x01E1);
	assert_int_equal(phy_read(t, MII_CTRL), MII_CR_AN_EN |
			 MII_CR_FULL_DUPLEX | MII_CR_SPEED_1000);
	/* Another MDIO address: error. */
	assert_int_equal(phy_rw(t, 2, MII_PHYID1, false, 0, NULL), -EIO);
	/* Power down: the PHY loses link. */
	phy_rw(t, 1, MII_CTRL, true, MII_CR_POWER_DOWN, NULL);
	assert_false(phy_read(t, MII_STATUS) & MII_SR_LINK);
	phy_rw(t, 1, MII_CTRL, true, MII_CR_AN_EN, NULL);
	assert_true(phy_read(t, MII_STATUS) & MII_SR_LINK);
}

/* ---- interrupts ---- */

static void test_icr_intx(void **state)
{
	struct t *t = *state;

	w(t, E1000_ICS, E1000_ICR_TXDW);
	assert_int_equal(t->intx, 0);		/* masked */
	w(t, E1000_IMS, E1000_ICR_TXDW | E1000_ICR_RXT0);
	assert_int_equal(r(t, E1000_IMS), E1000_ICR_TXDW | E1000_ICR_RXT0);
	assert_int_equal(t->intx, 1);
	/* Reading ICR returns the causes, clears them, drops the line. */
	assert_int_equal(r(t, E1000_ICR), E1000_ICR_TXDW);
	assert_int_equal(t->intx, 0);
	assert_int_equal(r(t, E1000_ICR), 0);
	/* IMC masks; a masked cause stays pending and shows up on unmask. */
	w(t, E1000_IMC, E1000_ICR_RXT0);
	w(t, E1000_ICS, E1000_ICR_RXT0);
	assert_int_equal(t->intx, 0);
	w(t, E1000_IMS, E1000_ICR_RXT0);
	assert_int_equal(t->intx, 1);
	/* Write-1-to-clear on ICR too. */
	w(t, E1000_ICR, E1000_ICR_RXT0);
	assert_int_equal(t->intx, 0);
	/* A byte write to IMC touches only that byte's causes. */
	w(t, E1000_IMS, 0xFF);
	e1000_mmio_write(t->e, E1000_IMC, 0x01, 1);
	assert_int_equal(r(t, E1000_IMS), 0xFE);
	/* INTx disable in PCI command hides the line, not the cause. */
	w(t, E1000_ICS, E1000_ICR_RXT0);
	assert_int_equal(t->intx, 1);
	pci_cfg_write(&t->e->pci, PCI_COMMAND,
		      pci_cfg_read(&t->e->pci, PCI_COMMAND, 2) |
		      PCI_COMMAND_INTX_DISABLE, 2);
	assert_int_equal(t->intx, 0);
}

/* ---- link ---- */

static void test_link_slu_lsc(void **state)
{
	struct t *t = *state;

	assert_false(r(t, E1000_STATUS) & E1000_STATUS_LU);
	assert_true(r(t, E1000_STATUS) & E1000_STATUS_FD);
	assert_true(r(t, E1000_STATUS) & E1000_STATUS_SPEED_1000);
	w(t, E1000_IMS, E1000_ICR_LSC);
	/* Linux's copper setup: CTRL.SLU, then link is there. */
	w(t, E1000_CTRL, r(t, E1000_CTRL) | E1000_CTRL_SLU);
	assert_true(r(t, E1000_STATUS) & E1000_STATUS_LU);
	assert_int_equal(t->intx, 1);
	assert_int_equal(r(t, E1000_ICR), E1000_ICR_LSC);
	/* Host takes the carrier away (QMP set_link). */
	assert_int_equal(t->e->dev.ops->set_link(&t->e->dev, false), 0);
	assert_false(r(t, E1000_STATUS) & E1000_STATUS_LU);
	assert_false(phy_read(t, MII_STATUS) & MII_SR_LINK);
	assert_int_equal(r(t, E1000_ICR), E1000_ICR_LSC);
	/* No change, no interrupt. */
	e1000_set_link(t->e, false);
	assert_int_equal(r(t, E1000_ICR), 0);
	e1000_set_link(t->e, true);
	assert_true(r(t, E1000_STATUS) & E1000_STATUS_LU);
	assert_true(phy_read(t, MII_STATUS) & MII_SR_LINK);
	assert_int_equal(r(t, E1000_ICR), E1000_ICR_LSC);
}

/* ---- reset, I/O BAR, odd accesses ---- */

static void test_io_bar_reset(void **state)
{
	struct t *t = *state;

	w(t, E1000_IMS, E1000_ICR_LSC);
	w(t, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM);
	/* IOADDR/IODATA reach the same registers. */
	e1000_io_write(t->e, E1000_IOADDR, E1000_RCTL, 4);
	assert_int_equal(e1000_io_read(t->e, E1000_IODATA, 4),
			 E1000_RCTL_EN | E1000_RCTL_BAM);
	assert_int_equal(e1000_io_read(t->e, E1000_IOADDR, 4), E1000_RCTL);
	/* Linux resets the 82540 through the I/O window. */
	e1000_io_write(t->e, E1000_IOADDR, E1000_CTRL, 4);
	e1000_io_write(t->e, E1000_IODATA, E1000_CTRL_RST, 4);
	assert_false(r(t, E1000_CTRL) & E1000_CTRL_RST);	/* self-clearing */
	assert_int_equal(r(t, E1000_RCTL), 0);
	assert_int_equal(r(t, E1000_IMS), 0);
	/* RAR0 is reloaded from the EEPROM, valid. */
	assert_int_equal(r(t, E1000_RA), 0xaa005452);
	assert_int_equal(r(t, E1000_RA + 4), 0x8000ccbb);
	/* Unmodelled registers read 0 and ignore writes. */
	w(t, 0x1F000, 0x1234);
	assert_int_equal(r(t, 0x1F000), 0);
	assert_int_equal(e1000_mmio_read(t->e, E1000_MMIO_SIZE + 8, 4), 0);
	/* Sub-dword reads of a register. */
	assert_int_equal(e1000_mmio_read(t->e, E1000_RA + 2, 2), 0xaa00);
	assert_int_equal(e1000_mmio_read(t->e, E1000_RA + 1, 1), 0x54);
	/* Ring lengths are multiples of 128 below 1 MiB. */
	w(t, E1000_TDLEN, 0xFFFFFFFF);
	assert_int_equal(r(t, E1000_TDLEN), E1000_DLEN_MASK);
	w(t, E1000_RDBAL, 0x1237);
	assert_int_equal(r(t, E1000_RDBAL), 0x1230);
}

static void test_statistics(void **state)
{
	struct t *t = *state;

	pthread_mutex_lock(&t->e->lock);
	e1000_stat_add(t->e, E1000_GPRC, 3);
	e1000_stat_add(t->e, E1000_GORCL, 0xFFFFFFFFULL);
	e1000_stat_add(t->e, E1000_GORCL, 2);
	e1000_stat_add(t->e, E1000_MPC, ~0ULL);
	e1000_stat_add(t->e, E1000_MPC, 5);
	pthread_mutex_unlock(&t->e->lock);
	assert_int_equal(r(t, E1000_STATS + E1000_GPRC), 3);
	assert_int_equal(r(t, E1000_STATS + E1000_GPRC), 0);	/* read clears */
	/* 64-bit pair: low first, then high clears both. */
	assert_int_equal(r(t, E1000_STATS + E1000_GORCL), 1);
	assert_int_equal(r(t, E1000_STATS + E1000_GORCL), 1);
	assert_int_equal(r(t, E1000_STATS + E1000_GORCH), 1);
	assert_int_equal(r(t, E1000_STATS + E1000_GORCL), 0);
	assert_int_equal(r(t, E1000_STATS + E1000_GORCH), 0);
	/* Saturating, not wrapping. */
	assert_int_equal(r(t, E1000_STATS + E1000_MPC), 0xFFFFFFFF);
	w(t, E1000_STATS + E1000_TPR, 7);	/* read-only */
	assert_int_equal(r(t, E1000_STATS + E1000_TPR), 0);
}

/* ---- state ---- */

static void program(struct t *t)
{
	w(t, E1000_CTRL, E1000_CTRL_SLU | E1000_CTRL_VME);
	w(t, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_LSC);
	w(t, E1000_RDBAL, 0x10000);
	w(t, E1000_RDLEN, 8 * 16);
	w(t, E1000_RDH, 2);
	w(t, E1000_RDT, 7);
	w(t, E1000_TDBAL, 0x20000);
	w(t, E1000_TDLEN, 16 * 16);
	w(t, E1000_TDT, 3);
	w(t, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_MPE);
	w(t, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
	w(t, E1000_MTA + 4 * 17, 0x80001);
	w(t, E1000_VFTA + 4 * 3, 0x10);
	w(t, E1000_RA + 8, 0x04030201);
	w(t, E1000_RA + 12, 0x80000605);
	w(t, E1000_ICS, E1000_ICR_RXT0);
	phy_rw(t, 1, MII_ADV, true, 0x0061, NULL);
	e1000_io_write(t->e, E1000_IOADDR, E1000_TDT, 4);
}

static void save(struct t *t, struct sbuf *sb)
{
	*sb = (struct sbuf){ 0 };
	assert_int_equal(t->e->dev.ops->save(&t->e->dev, sb), 0);
	assert_int_equal(sb->err, 0);
}

static int load(struct t *t, const struct sbuf *sb, char *err, size_t len)
{
	struct sreader rd = { .p = sb->data, .len = sb->len };

	return t->e->dev.ops->load(&t->e->dev, &rd, err, len);
}

static void test_state_roundtrip(void **state)
{
	struct t *t = *state;
	struct sbuf sb, sb2;
	char err[200] = "";
	uint32_t regs[E1000_NR_REGS];

	program(t);
	memcpy(regs, t->e->r, sizeof(regs));
	save(t, &sb);
	t->e->dev.ops->reset(&t->e->dev);
	assert_int_equal(r(t, E1000_RDT), 0);
	assert_int_equal(t->intx, 0);
	assert_int_equal(load(t, &sb, err, sizeof(err)), 0);
	/* Saving again gives the same bytes. */
	save(t, &sb2);
	assert_int_equal(sb.len, sb2.len);
	assert_memory_equal(sb.data, sb2.data, sb.len);
	assert_memory_equal(t->e->r, regs, sizeof(regs));
	assert_int_equal(r(t, E1000_MTA + 4 * 17), 0x80001);
	assert_int_equal(r(t, E1000_VFTA + 4 * 3), 0x10);
	assert_int_equal(r(t, E1000_RA + 12), 0x80000605);
	assert_int_equal(phy_read(t, MII_ADV), 0x0061);
	assert_int_equal(e1000_io_read(t->e, E1000_IOADDR, 4), E1000_TDT);
	assert_int_equal(t->intx, 1);	/* the pending cause is back */
	sbuf_free(&sb);
	sbuf_free(&sb2);
}

/* Offset of the "e1000" record's payload in a saved device. */
static size_t e1000_payload(const struct sbuf *sb)
{
	static const uint8_t name[] = { 5, 0, 'e', '1', '0', '0', '0' };

	for (size_t i = 0; i + sizeof(name) <= sb->len; i++)
		if (!memcmp(sb->data + i, name, sizeof(name)))
			return i + sizeof(name) + 8;	/* version, length */
	fail_msg("no e1000 record");
	return 0;
}

static void test_state_refused(void **state)
{
	struct t *t = *state;
	struct sbuf sb;
	char err[200] = "";
	size_t rec, off;

	program(t);
	w(t, E1000_RDH, 5);
	save(t, &sb);
	rec = e1000_payload(&sb);
	assert_int_equal(le_read(sb.data + rec + 4 * R_RDBAL, 4), 0x10000);
	/* RDH wider than the register. */
	off = rec + 4 * R_RDH;
	assert_int_equal(le_read(sb.data + off, 4), 5);
	le_write(sb.data + off, 4, 0x10000);
	assert_int_equal(load(t, &sb, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ring"));
	le_write(sb.data + off, 4, 5);
	/* A broken EEPROM checksum. */
	off = rec + 4 * (E1000_NR_REGS + E1000_MTA_SIZE + E1000_VFTA_SIZE +
			 2 * E1000_RA_ENTRIES + E1000_NR_STATS + 1);
	assert_int_equal(le_read(sb.data + off, 2), 0x5452);
	sb.data[off] ^= 1;
	assert_int_equal(load(t, &sb, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "EEPROM"));
	sb.data[off] ^= 1;
	/* Truncated. */
	sb.len -= 3;
	assert_int_equal(load(t, &sb, err, sizeof(err)), -EINVAL);
	sb.len += 3;
	assert_int_equal(load(t, &sb, err, sizeof(err)), 0);
	assert_int_equal(r(t, E1000_RDH), 5);
	sbuf_free(&sb);
}

/*
 * Head and tail beyond the ring's length are the guest's to write (one
 * register at a time); such a VM migrates with them as they were (the
 * data path refuses that ring each time it looks, as on the source).
 */
static void test_state_ring_outside_length(void **state)
{
	struct t *t = *state;
	struct sbuf sb;
	char err[200] = "";

	program(t);
	w(t, E1000_RDH, 8);		/* the ring has 8 descriptors */
	w(t, E1000_TDT, 300);
	save(t, &sb);
	t->e->dev.ops->reset(&t->e->dev);
	if (load(t, &sb, err, sizeof(err)))
		fail_msg("load refused: %s", err);
	assert_int_equal(r(t, E1000_RDH), 8);
	assert_int_equal(r(t, E1000_TDT), 300);
	sbuf_free(&sb);
}

/* ---- options ---- */

static int create(struct t *t, const char *s)
{
	struct opts o;

	assert_int_equal(opts_parse(&o, "--device", s), 0);
	return e1000_create(&t->vm, &o);
}

static void test_create_opts(void **state)
{
	struct t *t = *state;
	struct netdev *nd;
	struct e1000 *e;
	uint8_t mac[6];
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	close(sv[1]);
	assert_int_equal(netdev_fd_open(&t->vm, "net1", sv[0], 0, 0, &nd), 0);
	assert_int_equal(netdev_register(nd), 0);
	assert_int_equal(create(t, "e1000,netdev=net1"), -EINVAL);
	assert_int_equal(create(t, "e1000,id=x,netdev=nope"), -EINVAL);
	assert_int_equal(create(t, "e1000,id=x,netdev=net1,speed=10"), -EINVAL);
	assert_int_equal(create(t, "e1000,id=x,netdev=net1,mac=01:00:00:00:00:01"),
			 -EINVAL);
	assert_int_equal(create(t, "e1000,id=x,netdev=net1,addr=40"), -EINVAL);
	assert_int_equal(create(t, "e1000,id=x,netdev=net1,bus=rp1"), -EINVAL);
	assert_int_equal(create(t, "e1000,netdev=net1,failover_pair_id=s"),
			 -EINVAL);
	assert_int_equal(create(t, "e1000,id=x,netdev=net1,failover_pair_id=s"),
			 -EINVAL);
	assert_null(nd->user);		/* nothing claimed by the failures */
	assert_int_equal(create(t, "e1000,id=nic1,netdev=net1,mac=52:54:00:01:02:03,addr=0x7"),
			 0);
	e = e1000_find(&t->vm, "nic1");
	assert_non_null(e);
	assert_int_equal(PCI_SLOT(e->pci.devfn), 7);
	e1000_get_mac(e, mac);
	assert_memory_equal(mac, "\x52\x54\x00\x01\x02\x03", 6);
	assert_string_equal(nd->user, "nic1");
	assert_int_equal(create(t, "e1000,id=nic1,netdev=net1"), -EINVAL);
	assert_null(e1000_find(&t->vm, "pri0"));	/* not on the list */
	/* fake_vm_destroy() frees it through device_ops.destroy. */
	vm_remove_device(&t->vm, &e->dev);
	e1000_destroy(e);
	assert_null(nd->user);
	netdev_close_all(&t->vm);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_pci_identity),
		T(test_eeprom_eerd),
		T(test_eeprom_microwire),
		T(test_mdic_phy),
		T(test_icr_intx),
		T(test_link_slu_lsc),
		T(test_io_bar_reset),
		T(test_statistics),
		T(test_state_roundtrip),
		T(test_state_refused),
		T(test_state_ring_outside_length),
		T(test_create_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
