/* SPDX-License-Identifier: MIT */
#ifndef FVMM_DEV_E1000_REGS_H
#define FVMM_DEV_E1000_REGS_H

/*
 * Intel 82540EM register set: offsets in BAR0 and the bits fvmm models,
 * named as in Intel's 8254x Software Developer's Manual.
 */

/* ---- PCI identity ---- */
#define E1000_VENDOR		0x8086
#define E1000_DEVICE		0x100E		/* 82540EM desktop */
#define E1000_SUBSYS_VENDOR	0x8086
#define E1000_SUBSYS		0x001E		/* PRO/1000 MT Desktop */
#define E1000_REVISION		0x03
#define E1000_MMIO_BAR		0
#define E1000_MMIO_SIZE		0x20000		/* 128 KiB */
#define E1000_IO_BAR		1
#define E1000_IO_SIZE		64

/* I/O BAR: indirect access to the register file. */
#define E1000_IOADDR		0x00
#define E1000_IODATA		0x04

/* ---- register offsets ---- */
#define E1000_CTRL		0x00000
#define E1000_STATUS		0x00008
#define E1000_EECD		0x00010
#define E1000_EERD		0x00014
#define E1000_CTRL_EXT		0x00018
#define E1000_FLA		0x0001C
#define E1000_MDIC		0x00020
#define E1000_FCAL		0x00028
#define E1000_FCAH		0x0002C
#define E1000_FCT		0x00030
#define E1000_VET		0x00038
#define E1000_ICR		0x000C0
#define E1000_ITR		0x000C4
#define E1000_ICS		0x000C8
#define E1000_IMS		0x000D0
#define E1000_IMC		0x000D8
#define E1000_RCTL		0x00100
#define E1000_FCTTV		0x00170
#define E1000_TXCW		0x00178
#define E1000_RXCW		0x00180
#define E1000_TCTL		0x00400
#define E1000_TIPG		0x00410
#define E1000_LEDCTL		0x00E00
#define E1000_PBA		0x01000
#define E1000_FCRTL		0x02160
#define E1000_FCRTH		0x02168
#define E1000_RDFH		0x02410
#define E1000_RDFT		0x02418
#define E1000_RDFHS		0x02420
#define E1000_RDFTS		0x02428
#define E1000_RDFPC		0x02430
#define E1000_RDBAL		0x02800
#define E1000_RDBAH		0x02804
#define E1000_RDLEN		0x02808
#define E1000_RDH		0x02810
#define E1000_RDT		0x02818
#define E1000_RDTR		0x02820
#define E1000_RXDCTL		0x02828
#define E1000_RADV		0x0282C
#define E1000_RSRPD		0x02C00
#define E1000_TXDMAC		0x03000
#define E1000_TDFH		0x03410
#define E1000_TDFT		0x03418
#define E1000_TDFHS		0x03420
#define E1000_TDFTS		0x03428
#define E1000_TDFPC		0x03430
#define E1000_TDBAL		0x03800
#define E1000_TDBAH		0x03804
#define E1000_TDLEN		0x03808
#define E1000_TDH		0x03810
#define E1000_TDT		0x03818
#define E1000_TIDV		0x03820
#define E1000_TXDCTL		0x03828
#define E1000_TADV		0x0382C
#define E1000_TSPMT		0x03830
#define E1000_STATS		0x04000		/* 64 counters to 0x040FC */
#define E1000_STATS_END		0x04100
#define E1000_RXCSUM		0x05000
#define E1000_MTA		0x05200		/* 128 dwords */
#define E1000_RA		0x05400		/* 16 x (RAL, RAH) */
#define E1000_VFTA		0x05600		/* 128 dwords */
#define E1000_WUC		0x05800
#define E1000_WUFC		0x05808
#define E1000_WUS		0x05810
#define E1000_MANC		0x05820

/* Statistics counters used by the model (offsets into E1000_STATS). */
#define E1000_CRCERRS		0x00
#define E1000_MPC		0x10
#define E1000_RLEC		0x40
#define E1000_PRC64		0x5C
#define E1000_GPRC		0x74
#define E1000_BPRC		0x78
#define E1000_MPRC		0x7C
#define E1000_GPTC		0x80
#define E1000_GORCL		0x88
#define E1000_GORCH		0x8C
#define E1000_GOTCL		0x90
#define E1000_GOTCH		0x94
#define E1000_RNBC		0xA0
#define E1000_RUC		0xA4
#define E1000_ROC		0xAC
#define E1000_TORL		0xC0
#define E1000_TORH		0xC4
#define E1000_TOTL		0xC8
#define E1000_TOTH		0xCC
#define E1000_TPR		0xD0
#define E1000_TPT		0xD4
#define E1000_PTC64		0xD8
#define E1000_MPTC		0xF0
#define E1000_BPTC		0xF4
#define E1000_TSCTC		0xF8
#define E1000_TSCTFC		0xFC
#define E1000_NR_STATS		64

#define E1000_MTA_SIZE		128
#define E1000_VFTA_SIZE		128
#define E1000_RA_ENTRIES	16

/* ---- CTRL ---- */
#define E1000_CTRL_FD		0x00000001
#define E1000_CTRL_LRST		0x00000008
#define E1000_CTRL_ASDE		0x00000020
#define E1000_CTRL_SLU		0x00000040
#define E1000_CTRL_ILOS		0x00000080
#define E1000_CTRL_SPD_1000	0x00000200
#define E1000_CTRL_RST		0x04000000
#define E1000_CTRL_VME		0x40000000
#define E1000_CTRL_PHY_RST	0x80000000

/* ---- STATUS ---- */
#define E1000_STATUS_FD		0x00000001
#define E1000_STATUS_LU		0x00000002
#define E1000_STATUS_SPEED_1000	0x00000080
#define E1000_STATUS_ASDV_1000	0x00000200

/* ---- EECD: Microwire bit-bang interface ---- */
#define E1000_EECD_SK		0x00000001
#define E1000_EECD_CS		0x00000002
#define E1000_EECD_DI		0x00000004
#define E1000_EECD_DO		0x00000008
#define E1000_EECD_FWE_MASK	0x00000030
#define E1000_EECD_FWE_DIS	0x00000010
#define E1000_EECD_REQ		0x00000040
#define E1000_EECD_GNT		0x00000080
#define E1000_EECD_PRES		0x00000100
#define E1000_EECD_SIZE		0x00000200	/* 0: 64 words */
/* What the driver may write; GNT/DO/PRES/SIZE are the device's. */
#define E1000_EECD_WMASK	(E1000_EECD_SK | E1000_EECD_CS |	\
				 E1000_EECD_DI | E1000_EECD_FWE_MASK |	\
				 E1000_EECD_REQ)

/* ---- EERD ---- */
#define E1000_EERD_START	0x00000001
#define E1000_EERD_DONE		0x00000010
#define E1000_EERD_ADDR_SHIFT	8
#define E1000_EERD_DATA_SHIFT	16

/* ---- EEPROM image (words) ---- */
#define E1000_EEPROM_WORDS	64
#define E1000_EEPROM_ADDR_BITS	6
#define E1000_EEPROM_MAC	0x00		/* words 0-2 */
#define E1000_EEPROM_ID_LED	0x04
#define E1000_EEPROM_INIT1	0x0A
#define E1000_EEPROM_SUBSYS	0x0B
#define E1000_EEPROM_SUBVEN	0x0C
#define E1000_EEPROM_DEVID	0x0D
#define E1000_EEPROM_VENID	0x0E
#define E1000_EEPROM_INIT2	0x0F
#define E1000_EEPROM_INIT3	0x24
#define E1000_EEPROM_CSUM	0x3F
#define E1000_EEPROM_SUM	0xBABA
#define E1000_EEPROM_READ_OP	0x6		/* Microwire 110b */

/* ---- MDIC ---- */
#define E1000_MDIC_DATA_MASK	0x0000FFFF
#define E1000_MDIC_REG_SHIFT	16
#define E1000_MDIC_PHY_SHIFT	21
#define E1000_MDIC_OP_WRITE	0x04000000
#define E1000_MDIC_OP_READ	0x08000000
#define E1000_MDIC_READY	0x10000000
#define E1000_MDIC_INT_EN	0x20000000
#define E1000_MDIC_ERROR	0x40000000
#define E1000_PHY_ADDR		1

/* ---- interrupt causes (ICR/ICS/IMS/IMC) ---- */
#define E1000_ICR_TXDW		0x00000001
#define E1000_ICR_TXQE		0x00000002
#define E1000_ICR_LSC		0x00000004
#define E1000_ICR_RXSEQ		0x00000008
#define E1000_ICR_RXDMT0	0x00000010
#define E1000_ICR_RXO		0x00000040
#define E1000_ICR_RXT0		0x00000080
#define E1000_ICR_MDAC		0x00000200
#define E1000_ICR_MASK		0x0001FFFF

/* ---- RCTL ---- */
#define E1000_RCTL_EN		0x00000002
#define E1000_RCTL_SBP		0x00000004
#define E1000_RCTL_UPE		0x00000008
#define E1000_RCTL_MPE		0x00000010
#define E1000_RCTL_LPE		0x00000020
#define E1000_RCTL_RDMTS_SHIFT	8
#define E1000_RCTL_RDMTS_MASK	0x00000300
#define E1000_RCTL_MO_SHIFT	12
#define E1000_RCTL_MO_MASK	0x00003000
#define E1000_RCTL_BAM		0x00008000
#define E1000_RCTL_BSIZE_SHIFT	16
#define E1000_RCTL_BSIZE_MASK	0x00030000
#define E1000_RCTL_VFE		0x00040000
#define E1000_RCTL_BSEX		0x02000000
#define E1000_RCTL_SECRC	0x04000000

/* ---- TCTL ---- */
#define E1000_TCTL_EN		0x00000002
#define E1000_TCTL_PSP		0x00000008

/* ---- RXCSUM ---- */
#define E1000_RXCSUM_PCSS_MASK	0x000000FF

/* ---- RAH ---- */
#define E1000_RAH_AV		0x80000000
#define E1000_RAH_ASEL_MASK	0x00030000

/* ---- ring registers ---- */
#define E1000_DLEN_MASK		0x000FFF80	/* multiple of 128, < 1 MiB */
#define E1000_DH_MASK		0x0000FFFF
#define E1000_DBAL_MASK		0xFFFFFFF0
#define E1000_DESC_SIZE		16

/* ---- receive descriptor (legacy, 16 bytes) ---- */
#define E1000_RXD_STAT_DD	0x01
#define E1000_RXD_STAT_EOP	0x02
#define E1000_RXD_STAT_IXSM	0x04
#define E1000_RXD_STAT_VP	0x08
#define E1000_RXD_ERR_RXE	0x80

/* ---- transmit descriptors (16 bytes) ---- */
/* Command bits in byte 11 (bits 31:24 of the second dword). */
#define E1000_TXD_CMD_EOP	0x01
#define E1000_TXD_CMD_IFCS	0x02
#define E1000_TXD_CMD_IC	0x04		/* legacy: insert checksum */
#define E1000_TXD_CMD_TSE	0x04		/* extended: segmentation */
#define E1000_TXD_CMD_RS	0x08
#define E1000_TXD_CMD_DEXT	0x20
#define E1000_TXD_CMD_VLE	0x40
/* Context descriptor TUCMD (same byte). */
#define E1000_TXD_TUCMD_TCP	0x01
#define E1000_TXD_TUCMD_IP	0x02
#define E1000_TXD_TUCMD_TSE	0x04
/* Descriptor type, bits 23:20 of the second dword (extended only). */
#define E1000_TXD_DTYP_CTX	0x0
#define E1000_TXD_DTYP_DATA	0x1
/* Status byte 12. */
#define E1000_TXD_STAT_DD	0x01
/* POPTS byte 13 of a data descriptor. */
#define E1000_TXD_POPTS_IXSM	0x01
#define E1000_TXD_POPTS_TXSM	0x02

/* ---- PHY (Marvell 88E1011 at MDIO address 1) ---- */
#define E1000_PHY_REGS		32
#define MII_CTRL		0x00
#define MII_STATUS		0x01
#define MII_PHYID1		0x02
#define MII_PHYID2		0x03
#define MII_ADV			0x04
#define MII_LPA			0x05
#define MII_EXP			0x06
#define MII_1000T_CTRL		0x09
#define MII_1000T_STATUS	0x0A
#define MII_EXT_STATUS		0x0F
#define M88_SPEC_CTRL		0x10
#define M88_SPEC_STATUS		0x11
#define M88_EXT_SPEC_CTRL	0x14

#define MII_CR_SPEED_1000	0x0040
#define MII_CR_FULL_DUPLEX	0x0100
#define MII_CR_RESTART_AN	0x0200
#define MII_CR_POWER_DOWN	0x0800
#define MII_CR_AN_EN		0x1000
#define MII_CR_RESET		0x8000

#define MII_SR_LINK		0x0004
#define MII_SR_AN_COMPLETE	0x0020
/* 10/100 half/full, extended status, preamble suppression, AN ability. */
#define MII_SR_BASE		0x7949

#define M88_PHYID1		0x0141
#define M88_PHYID2		0x0C20		/* 88E1011, revision 0 */

/* Speed 1000, full duplex, resolved, link. */
#define M88_PSSR_LINK_1000FD	0xAC00
#define MII_1000T_SR_LINK	0x3C00		/* local/remote ok, LP 1000 */
#define MII_LPA_LINK		0x41E1		/* ack, 10/100 half/full, 802.3 */

#endif
