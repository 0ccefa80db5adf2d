// SPDX-License-Identifier: MIT
/*
 * e1000 (82540EM) registers: the register file, the Microwire EEPROM and
 * EERD, MDIC and the M88E1011 PHY, interrupt causes, link state, and the
 * BAR0 (MMIO) and BAR1 (IOADDR/IODATA) handlers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "dev/e1000.h"

/* ---- registers ---- */

struct e1000_reg_info {
	uint32_t off;
	uint8_t idx;
	uint32_t wmask;		/* bits a plain write stores */
};

/* Sorted by offset (bsearch).  Registers with side effects are also here. */
static const struct e1000_reg_info e1000_reg_table[] = {
	{ E1000_CTRL, R_CTRL, ~E1000_CTRL_RST },
	{ E1000_STATUS, R_STATUS, 0 },
	{ E1000_EECD, R_EECD, E1000_EECD_WMASK },
	{ E1000_EERD, R_EERD, 0 },
	{ E1000_CTRL_EXT, R_CTRL_EXT, ~0U },
	{ E1000_FLA, R_FLA, ~0U },
	{ E1000_MDIC, R_MDIC, 0 },
	{ E1000_FCAL, R_FCAL, ~0U },
	{ E1000_FCAH, R_FCAH, 0xFFFF },
	{ E1000_FCT, R_FCT, 0xFFFF },
	{ E1000_VET, R_VET, 0xFFFF },
	{ E1000_ICR, R_ICR, 0 },
	{ E1000_ITR, R_ITR, 0xFFFF },
	{ E1000_IMS, R_IMS, 0 },
	{ E1000_RCTL, R_RCTL, ~0U },
	{ E1000_FCTTV, R_FCTTV, 0xFFFF },
	{ E1000_TXCW, R_TXCW, ~0U },
	{ E1000_RXCW, R_RXCW, 0 },
	{ E1000_TCTL, R_TCTL, ~0U },
	{ E1000_TIPG, R_TIPG, ~0U },
	{ E1000_LEDCTL, R_LEDCTL, ~0U },
	{ E1000_PBA, R_PBA, 0 },
	{ E1000_FCRTL, R_FCRTL, ~0U },
	{ E1000_FCRTH, R_FCRTH, ~0U },
	{ E1000_RDFH, R_RDFH, 0x1FFF },
	{ E1000_RDFT, R_RDFT, 0x1FFF },
	{ E1000_RDFHS, R_RDFHS, 0x1FFF },
	{ E1000_RDFTS, R_RDFTS, 0x1FFF },
	{ E1000_RDFPC, R_RDFPC, 0x1FFF },
	{ E1000_RDBAL, R_RDBAL, E1000_DBAL_MASK },
	{ E1000_RDBAH, R_RDBAH, ~0U },
	{ E1000_RDLEN, R_RDLEN, E1000_DLEN_MASK },
	{ E1000_RDH, R_RDH, E1000_DH_MASK },
	{ E1000_RDT, R_RDT, E1000_DH_MASK },
	{ E1000_RDTR, R_RDTR, 0x8000FFFF },
	{ E1000_RXDCTL, R_RXDCTL, ~0U },
	{ E1000_RADV, R_RADV, 0xFFFF },
	{ E1000_RSRPD, R_RSRPD, 0xFFF },
	{ E1000_TXDMAC, R_TXDMAC, 1 },
	{ E1000_TDFH, R_TDFH, 0x1FFF },
	{ E1000_TDFT, R_TDFT, 0x1FFF },
	{ E1000_TDFHS, R_TDFHS, 0x1FFF },
	{ E1000_TDFTS, R_TDFTS, 0x1FFF },
	{ E1000_TDFPC, R_TDFPC, 0x1FFF },
	{ E1000_TDBAL, R_TDBAL, E1000_DBAL_MASK },
	{ E1000_TDBAH, R_TDBAH, ~0U },
	{ E1000_TDLEN, R_TDLEN, E1000_DLEN_MASK },
	{ E1000_TDH, R_TDH, E1000_DH_MASK },
	{ E1000_TDT, R_TDT, E1000_DH_MASK },
	{ E1000_TIDV, R_TIDV, 0xFFFF },
	{ E1000_TXDCTL, R_TXDCTL, ~0U },
	{ E1000_TADV, R_TADV, 0xFFFF },
	{ E1000_TSPMT, R_TSPMT, ~0U },
	{ E1000_RXCSUM, R_RXCSUM, 0x3FF },
	{ E1000_WUC, R_WUC, 0xF },
	{ E1000_WUFC, R_WUFC, 0xFF },
	{ E1000_WUS, R_WUS, 0 },
	{ E1000_MANC, R_MANC, ~0U },
};

static int e1000_reg_cmp(const void *key, const void *elem)
{
	uint32_t off = *(const uint32_t *)key;
	const struct e1000_reg_info *ri = elem;

	return off < ri->off ? -1 : off > ri->off;
}

static const struct e1000_reg_info *e1000_reg_find(uint32_t off)
{
	return bsearch(&off, e1000_reg_table, ARRAY_SIZE(e1000_reg_table),
		       sizeof(e1000_reg_table[0]), e1000_reg_cmp);
}

static void e1000_unknown(struct e1000 *e, const char *what, uint32_t off)
{
	if (e->warned_unknown)
		return;
	e->warned_unknown = true;
	pr_guest("%s: %s of unmodelled register 0x%05x ignored (reads 0)",
		 e->params.id, what, off);
}

/* ---- EEPROM ---- */

void e1000_eeprom_init(uint16_t *ee, const uint8_t mac[6])
{
	uint16_t sum = 0;

	memset(ee, 0, E1000_EEPROM_WORDS * sizeof(*ee));
	for (int i = 0; i < 3; i++)
		ee[E1000_EEPROM_MAC + i] = mac[2 * i] | mac[2 * i + 1] << 8;
	ee[E1000_EEPROM_ID_LED] = 0xFFFF;	/* "use the default LEDs" */
	ee[E1000_EEPROM_SUBSYS] = E1000_SUBSYS;
	ee[E1000_EEPROM_SUBVEN] = E1000_SUBSYS_VENDOR;
	ee[E1000_EEPROM_DEVID] = E1000_DEVICE;
	ee[E1000_EEPROM_VENID] = E1000_VENDOR;
	/* INIT2 pause bits 0: no flow control.  INIT3 APME 0: no WoL. */
	for (int i = 0; i < E1000_EEPROM_CSUM; i++)
		sum += ee[i];
	ee[E1000_EEPROM_CSUM] = E1000_EEPROM_SUM - sum;
}

static void e1000_mw_clock(struct e1000 *e, bool di)
{
	const unsigned cmd_bits = 3 + E1000_EEPROM_ADDR_BITS;

	if (e->mw_reading) {
		e->mw_do = e->eeprom[e->mw_addr] >> (15 - e->mw_out) & 1;
		if (++e->mw_out == 16) {	/* sequential read goes on */
			e->mw_out = 0;
			e->mw_addr = (e->mw_addr + 1) % E1000_EEPROM_WORDS;
		}
		return;
	}
	if (!e->mw_bits && !di)
		return;			/* zeros before the start bit */
	if (e->mw_bits >= cmd_bits)
		return;			/* a command we do not model */
	e->mw_in = e->mw_in << 1 | di;
	if (++e->mw_bits < cmd_bits)
		return;
	/* Start bit + READ opcode (110b), then the word address. */
	if ((e->mw_in >> E1000_EEPROM_ADDR_BITS) == E1000_EEPROM_READ_OP) {
		e->mw_reading = true;
		e->mw_addr = e->mw_in & (E1000_EEPROM_WORDS - 1);
		e->mw_out = 0;
		e->mw_do = false;
	}
}

static void e1000_mw_idle(struct e1000 *e)
{
	e->mw_in = 0;
	e->mw_bits = 0;
	e->mw_addr = 0;
	e->mw_out = 0;
	e->mw_reading = false;
	e->mw_do = false;
}

static void e1000_eecd_write(struct e1000 *e, uint32_t val)
{
	uint32_t old = e->r[R_EECD];

	e->r[R_EECD] = val & E1000_EECD_WMASK;
	/* Dropping chip select ends the command (standby between words). */
	if (!(val & E1000_EECD_CS)) {
		e1000_mw_idle(e);
		return;
	}
	if (!(old & E1000_EECD_SK) && (val & E1000_EECD_SK))
		e1000_mw_clock(e, val & E1000_EECD_DI);
}

static uint32_t e1000_eecd_read(struct e1000 *e)
{
	uint32_t v = e->r[R_EECD] | E1000_EECD_PRES;

	/* Nobody else shares the EEPROM: a request is granted at once. */
	if (v & E1000_EECD_REQ)
		v |= E1000_EECD_GNT;
	if (e->mw_do)
		v |= E1000_EECD_DO;
	return v;
}

static void e1000_eerd_write(struct e1000 *e, uint32_t val)
{
	unsigned addr = val >> E1000_EERD_ADDR_SHIFT & 0xFF;

	if (!(val & E1000_EERD_START)) {
		e->r[R_EERD] = val & ~E1000_EERD_DONE;
		return;
	}
	/* 64 words: higher address bits are not decoded. */
	e->r[R_EERD] = E1000_EERD_DONE | addr << E1000_EERD_ADDR_SHIFT |
		       (uint32_t)e->eeprom[addr % E1000_EEPROM_WORDS]
			       << E1000_EERD_DATA_SHIFT;
}

/* ---- PHY ---- */

static void e1000_phy_reset(struct e1000 *e)
{
	memset(e->phy, 0, sizeof(e->phy));
	e->phy[MII_CTRL] = MII_CR_AN_EN | MII_CR_FULL_DUPLEX |
			   MII_CR_SPEED_1000;
	e->phy[MII_PHYID1] = M88_PHYID1;
	e->phy[MII_PHYID2] = M88_PHYID2;
	e->phy[MII_ADV] = 0x01E1;	/* 10/100 half/full, 802.3 */
	e->phy[MII_1000T_CTRL] = 0x0300;	/* 1000 half/full */
	e->phy[MII_EXT_STATUS] = 0x3000;	/* 1000BASE-T half/full */
	e->phy[M88_SPEC_CTRL] = 0x0068;
	e->phy[M88_EXT_SPEC_CTRL] = 0x0C60;
}

/* The PHY's view of the link: status bits that follow it. */
static void e1000_phy_link_bits(struct e1000 *e, bool up)
{
	/* Autonegotiation completes at once: there is no real wire. */
	e->phy[MII_STATUS] = MII_SR_BASE |
			     (up ? MII_SR_LINK | MII_SR_AN_COMPLETE : 0);
	e->phy[MII_LPA] = up ? MII_LPA_LINK : 0;
	e->phy[MII_EXP] = up ? 1 : 0;	/* partner can autonegotiate */
	e->phy[MII_1000T_STATUS] = up ? MII_1000T_SR_LINK : 0;
	e->phy[M88_SPEC_STATUS] = up ? M88_PSSR_LINK_1000FD : 0;
}

static bool e1000_phy_ro(unsigned reg)
{
	switch (reg) {
	case MII_STATUS: case MII_PHYID1: case MII_PHYID2: case MII_LPA:
	case MII_EXP: case MII_1000T_STATUS: case MII_EXT_STATUS:
	case M88_SPEC_STATUS:
		return true;
	default:
		return false;
	}
}

static void e1000_phy_write(struct e1000 *e, unsigned reg, uint16_t val)
{
	if (e1000_phy_ro(reg))
		return;
	/*
	 * Reset and restart are self-clearing and instant.  A software reset
	 * commits the settings written before it (Linux writes the M88
	 * control registers, then resets "so changes take effect"); only
	 * CTRL.PHY_RST brings back power-on values.
	 */
	if (reg == MII_CTRL)
		val &= ~(MII_CR_RESET | MII_CR_RESTART_AN);
	e->phy[reg] = val;
	if (reg == MII_CTRL)
		e1000_link_update(e);	/* power down takes the link */
}

static void e1000_mdic_write(struct e1000 *e, uint32_t val)
{
	unsigned phy = val >> E1000_MDIC_PHY_SHIFT & 0x1F;
	unsigned reg = val >> E1000_MDIC_REG_SHIFT & 0x1F;
	uint32_t op = val & (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE);

	val &= ~(E1000_MDIC_READY | E1000_MDIC_ERROR);
	if (phy != E1000_PHY_ADDR || !op ||
	    op == (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE)) {
		/* Nobody answers at that address: an MDIO error. */
		e->r[R_MDIC] = val | E1000_MDIC_READY | E1000_MDIC_ERROR;
	} else if (op == E1000_MDIC_OP_READ) {
		e->r[R_MDIC] = (val & ~E1000_MDIC_DATA_MASK) | e->phy[reg] |
			       E1000_MDIC_READY;
	} else {
		e1000_phy_write(e, reg, val & E1000_MDIC_DATA_MASK);
		e->r[R_MDIC] = val | E1000_MDIC_READY;
	}
	if (val & E1000_MDIC_INT_EN)
		e1000_raise(e, E1000_ICR_MDAC);
}

/* ---- interrupts and link ---- */

void e1000_update_irq(struct e1000 *e)
{
	pci_set_irq(&e->pci, (e->r[R_ICR] & e->r[R_IMS]) != 0);
}

void e1000_raise(struct e1000 *e, uint32_t cause)
{
	e->r[R_ICR] |= cause & E1000_ICR_MASK;
	e1000_update_irq(e);
}

static bool e1000_phy_link(struct e1000 *e)
{
	return e->link_host && !(e->phy[MII_CTRL] & MII_CR_POWER_DOWN);
}

/* STATUS.LU: the PHY has link and the driver told the MAC to use it. */
static bool e1000_mac_link(struct e1000 *e)
{
	return e1000_phy_link(e) && (e->r[R_CTRL] & E1000_CTRL_SLU);
}

void e1000_link_update(struct e1000 *e)
{
	bool up = e1000_mac_link(e);

	e1000_phy_link_bits(e, e1000_phy_link(e));
	if (up == !!(e->r[R_STATUS] & E1000_STATUS_LU))
		return;
	e->r[R_STATUS] ^= E1000_STATUS_LU;
	e1000_raise(e, E1000_ICR_LSC);
	e1000_kick(e);	/* receive drops while down, delivers while up */
}

/* ---- reset ---- */

static void e1000_mac_reset(struct e1000 *e)
{
	const uint16_t *ee = e->eeprom;

	memset(e->r, 0, sizeof(e->r));
	memset(e->mta, 0, sizeof(e->mta));
	memset(e->vfta, 0, sizeof(e->vfta));
	memset(e->ra, 0, sizeof(e->ra));
	memset(e->stats, 0, sizeof(e->stats));
	memset(&e->tx_ctx, 0, sizeof(e->tx_ctx));
	e->ioaddr = 0;
	e1000_mw_idle(e);
	e->r[R_STATUS] = E1000_STATUS_FD | E1000_STATUS_SPEED_1000 |
			 E1000_STATUS_ASDV_1000;
	e->r[R_EECD] = E1000_EECD_FWE_DIS;
	e->r[R_VET] = 0x8100;
	e->r[R_LEDCTL] = 0x07068302;
	e->r[R_PBA] = 0x00100030;	/* 48 KiB receive, 16 KiB transmit */
	e->r[R_RXCSUM] = 0x300;
	/* The MAC loads receive address 0 from the EEPROM. */
	e->ra[0] = ee[0] | (uint32_t)ee[1] << 16;
	e->ra[1] = ee[2] | E1000_RAH_AV;
	e1000_phy_link_bits(e, e1000_phy_link(e));
}

void e1000_reset_regs(struct e1000 *e)
{
	e1000_eeprom_init(e->eeprom, e->params.mac);
	e1000_phy_reset(e);
	e1000_mac_reset(e);
}

/* CTRL.RST: everything but PCI configuration and the PHY. */
static void e1000_soft_reset(struct e1000 *e)
{
	e1000_mac_reset(e);
	e1000_rx_reset(e);
	e1000_update_irq(e);
	e1000_kick(e);
}

static void e1000_ctrl_write(struct e1000 *e, uint32_t val)
{
	uint32_t old = e->r[R_CTRL];

	if (val & E1000_CTRL_RST) {
		e1000_soft_reset(e);
		return;
	}
	e->r[R_CTRL] = val;
	/* The PHY comes out of a hardware reset in its power-on state. */
	if ((old & E1000_CTRL_PHY_RST) && !(val & E1000_CTRL_PHY_RST))
		e1000_phy_reset(e);
	e1000_link_update(e);
}

/* ---- statistics ---- */

static bool e1000_stat_is_low(unsigned reg)
{
	return reg == E1000_GORCL || reg == E1000_GOTCL ||
	       reg == E1000_TORL || reg == E1000_TOTL;
}

void e1000_stat_add(struct e1000 *e, unsigned reg, uint64_t n)
{
	uint32_t *c = &e->stats[reg / 4];

	if (e1000_stat_is_low(reg)) {
		uint64_t v = ((uint64_t)c[1] << 32 | c[0]) + n;

		c[0] = v;
		c[1] = v >> 32;
		return;
	}
	/* Counters stick at their maximum instead of wrapping. */
	*c = n > UINT32_MAX - *c ? UINT32_MAX : *c + (uint32_t)n;
}

/* Read-to-clear; a 64-bit pair clears when its high half is read. */
static uint32_t e1000_stat_read(struct e1000 *e, unsigned reg, bool peek)
{
	uint32_t v = e->stats[reg / 4];

	if (peek || e1000_stat_is_low(reg))
		return v;
	e->stats[reg / 4] = 0;
	if (e1000_stat_is_low(reg - 4))
		e->stats[reg / 4 - 1] = 0;
	return v;
}

/* ---- register dispatch ---- */

bool e1000_ring_ok(struct e1000 *e, bool tx, uint32_t *n)
{
	uint32_t len = e->r[tx ? R_TDLEN : R_RDLEN];
	uint32_t h = e->r[tx ? R_TDH : R_RDH], t = e->r[tx ? R_TDT : R_RDT];

	*n = len / E1000_DESC_SIZE;
	if (!*n)
		return false;
	if (h >= *n || t >= *n) {
		pr_guest("%s: %s head %u / tail %u outside a ring of %u",
			 e->params.id, tx ? "transmit" : "receive", h, t, *n);
		return false;
	}
	return true;
}

uint64_t e1000_ring_base(struct e1000 *e, bool tx)
{
	return (uint64_t)e->r[tx ? R_TDBAH : R_RDBAH] << 32 |
	       e->r[tx ? R_TDBAL : R_RDBAL];
}

static bool e1000_in(uint32_t off, uint32_t base, unsigned n)
{
	return off >= base && off < base + 4 * n;
}

static uint32_t e1000_reg_read(struct e1000 *e, uint32_t off, bool peek)
{
	const struct e1000_reg_info *ri;
	uint32_t v;

	if (e1000_in(off, E1000_STATS, E1000_NR_STATS))
		return e1000_stat_read(e, off - E1000_STATS, peek);
	if (e1000_in(off, E1000_MTA, E1000_MTA_SIZE))
		return e->mta[(off - E1000_MTA) / 4];
	if (e1000_in(off, E1000_VFTA, E1000_VFTA_SIZE))
		return e->vfta[(off - E1000_VFTA) / 4];
	if (e1000_in(off, E1000_RA, 2 * E1000_RA_ENTRIES))
		return e->ra[(off - E1000_RA) / 4];
	switch (off) {
	case E1000_ICR:
		v = e->r[R_ICR];
		if (!peek && v) {	/* reading clears and drops INTx */
			e->r[R_ICR] = 0;
			e1000_update_irq(e);
		}
		return v;
	case E1000_EECD:
		return e1000_eecd_read(e);
	case E1000_ICS:
	case E1000_IMC:
		return 0;	/* write-only */
	}
	ri = e1000_reg_find(off);
	if (ri)
		return e->r[ri->idx];
	if (!peek)
		e1000_unknown(e, "read", off);
	return 0;
}

/* What a plain register write sets in motion. */
static void e1000_plain_effects(struct e1000 *e, unsigned idx, uint32_t val)
{
	switch (idx) {
	case R_RDBAL: case R_RDBAH: case R_RDLEN: case R_RDH:
		e1000_rx_reset(e);	/* a reprogrammed ring loses a partial frame */
		break;
	case R_RDT:
		if (e->rx_blocked)
			e1000_kick(e);	/* buffers arrived */
		break;
	case R_RCTL:
		if (!(val & E1000_RCTL_EN))
			e1000_rx_reset(e);
		e1000_kick(e);
		break;
	case R_TDT:
	case R_TCTL:
		if (e->r[R_TCTL] & E1000_TCTL_EN)
			e1000_kick(e);
		break;
	}
}

static void e1000_plain_write(struct e1000 *e, uint32_t off, uint32_t val)
{
	const struct e1000_reg_info *ri = e1000_reg_find(off);

	if (!ri) {
		e1000_unknown(e, "write", off);
		return;
	}
	if (!ri->wmask)
		return;		/* read-only */
	e->r[ri->idx] = (e->r[ri->idx] & ~ri->wmask) | (val & ri->wmask);
	e1000_plain_effects(e, ri->idx, val);
}

static void e1000_reg_write(struct e1000 *e, uint32_t off, uint32_t val)
{
	if (e1000_in(off, E1000_STATS, E1000_NR_STATS))
		return;		/* counters are read-only */
	if (e1000_in(off, E1000_MTA, E1000_MTA_SIZE)) {
		e->mta[(off - E1000_MTA) / 4] = val;
		return;
	}
	if (e1000_in(off, E1000_VFTA, E1000_VFTA_SIZE)) {
		e->vfta[(off - E1000_VFTA) / 4] = val;
		return;
	}
	if (e1000_in(off, E1000_RA, 2 * E1000_RA_ENTRIES)) {
		e->ra[(off - E1000_RA) / 4] = val;
		return;
	}
	switch (off) {
	case E1000_CTRL:
		e1000_ctrl_write(e, val);
		break;
	case E1000_EECD:
		e1000_eecd_write(e, val);
		break;
	case E1000_EERD:
		e1000_eerd_write(e, val);
		break;
	case E1000_MDIC:
		e1000_mdic_write(e, val);
		break;
	case E1000_ICR:		/* write 1 to clear */
		e->r[R_ICR] &= ~val;
		e1000_update_irq(e);
		break;
	case E1000_ICS:
		e1000_raise(e, val);
		break;
	case E1000_IMS:
		e->r[R_IMS] |= val & E1000_ICR_MASK;
		e1000_update_irq(e);
		break;
	case E1000_IMC:
		e->r[R_IMS] &= ~val;
		e1000_update_irq(e);
		break;
	case E1000_PBA:		/* the transmit share is what is left of 64 KiB */
		val &= 0x3F;
		e->r[R_PBA] = val | (64 - val) << 16;
		break;
	default:
		e1000_plain_write(e, off, val);
	}
}

/* ---- I/O handlers ---- */

/* Interrupt registers act on the bits written: no read-modify-write. */
static bool e1000_reg_is_action(uint32_t off)
{
	return off == E1000_ICR || off == E1000_ICS || off == E1000_IMS ||
	       off == E1000_IMC;
}

static uint32_t e1000_access_read(struct e1000 *e, uint64_t off,
				  unsigned size)
{
	unsigned shift = (off & 3) * 8;
	uint64_t v;

	pthread_mutex_lock(&e->lock);
	v = e1000_reg_read(e, off & ~3ULL, false);
	pthread_mutex_unlock(&e->lock);
	v >>= shift;
	return size >= 4 ? (uint32_t)v : v & ((1U << (8 * size)) - 1);
}

/* Narrow writes merge into the current value (read without side effects). */
static void e1000_access_write(struct e1000 *e, uint64_t off, uint64_t val,
			       unsigned size)
{
	uint32_t aligned = off & ~3ULL, shift = (off & 3) * 8;
	uint32_t mask, cur;

	pthread_mutex_lock(&e->lock);
	if (size >= 4 && !shift) {
		e1000_reg_write(e, aligned, val);
	} else {
		mask = (size >= 4 ? ~0U : (1U << (8 * size)) - 1) << shift;
		cur = e1000_reg_is_action(aligned) ? 0 :
		      e1000_reg_read(e, aligned, true);
		e1000_reg_write(e, aligned, (cur & ~mask) |
					    ((uint32_t)(val << shift) & mask));
	}
	pthread_mutex_unlock(&e->lock);
}

uint64_t e1000_mmio_read(void *opaque, uint64_t off, unsigned size)
{
	if (off >= E1000_MMIO_SIZE)
		return 0;
	return e1000_access_read(opaque, off, size);
}

void e1000_mmio_write(void *opaque, uint64_t off, uint64_t val,
		      unsigned size)
{
	if (off < E1000_MMIO_SIZE)
		e1000_access_write(opaque, off, val, size);
}

uint64_t e1000_io_read(void *opaque, uint64_t off, unsigned size)
{
	struct e1000 *e = opaque;
	uint32_t addr;

	if (off < E1000_IOADDR + 4) {
		pthread_mutex_lock(&e->lock);
		addr = e->ioaddr;
		pthread_mutex_unlock(&e->lock);
		return (addr >> (off & 3) * 8) &
		       (size >= 4 ? ~0U : (1U << (8 * size)) - 1);
	}
	if (off < E1000_IODATA + 4) {
		pthread_mutex_lock(&e->lock);
		addr = e->ioaddr & (E1000_MMIO_SIZE - 4);
		pthread_mutex_unlock(&e->lock);
		return e1000_access_read(e, addr | (off & 3), size);
	}
	return 0;	/* reserved */
}

void e1000_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct e1000 *e = opaque;
	uint32_t shift = (off & 3) * 8, mask, addr;

	if (off < E1000_IOADDR + 4) {
		mask = (size >= 4 ? ~0U : (1U << (8 * size)) - 1) << shift;
		pthread_mutex_lock(&e->lock);
		e->ioaddr = (e->ioaddr & ~mask) |
			    ((uint32_t)(val << shift) & mask);
		pthread_mutex_unlock(&e->lock);
	} else if (off < E1000_IODATA + 4) {
		pthread_mutex_lock(&e->lock);
		addr = e->ioaddr & (E1000_MMIO_SIZE - 4);
		pthread_mutex_unlock(&e->lock);
		e1000_access_write(e, addr | (off & 3), val, size);
	}
}

/* ---- the loop's work ---- */

void e1000_kick(struct e1000 *e)
{
	uint64_t one = 1;

	if (__atomic_exchange_n(&e->kick_pending, true, __ATOMIC_ACQ_REL))
		return;
	if (write(e->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("%s: kick: %s", e->params.id, strerror(errno));
}

void e1000_poll(struct e1000 *e)
{
	pthread_mutex_lock(&e->lock);
	e1000_tx_run(e);
	e1000_rx_run(e);
	pthread_mutex_unlock(&e->lock);
}
