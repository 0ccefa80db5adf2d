// SPDX-License-Identifier: MIT
/*
 * The PCIe hotplug slot state machine (src/pci/pcie_slot.c) on its own:
 * every Slot Control write sequence Linux's pciehp performs at probe, on
 * hot-add and on orderly and surprise removal, spurious writes, RW1C
 * clearing only what was written, and the MSI rule (a message whenever the
 * enabled-event condition rises, none lost, none duplicated).
 */
#include "helpers.h"

#include "pci/pcie_slot.h"

#define EVENTS		PCIE_SLOT_STA_EVENTS
#define ENABLES_LINUX	(PCI_EXP_SLTCTL_DLLSCE | PCI_EXP_SLTCTL_ABPE | \
			 PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_CCIE)
#define ALL_ENABLES	(PCI_EXP_SLTCTL_PDCE | PCI_EXP_SLTCTL_ABPE |	\
			 PCI_EXP_SLTCTL_MRLSCE | PCI_EXP_SLTCTL_PFDE |	\
			 PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_CCIE |	\
			 PCI_EXP_SLTCTL_DLLSCE)

/* What a guest driver sees and did: messages, ejects, power changes. */
struct guest {
	struct pcie_slot s;
	unsigned msis, ejects, powers;
	uint16_t seen;		/* event bits the ISR collected */
};

static void account(struct guest *g, unsigned act)
{
	g->msis += !!(act & PCIE_SLOT_MSI);
	g->ejects += !!(act & PCIE_SLOT_EJECTED);
	g->powers += !!(act & PCIE_SLOT_POWER);
}

/* pcie_write_cmd(): read-modify-write of Slot Control. */
static void write_cmd(struct guest *g, uint16_t cmd, uint16_t mask)
{
	uint16_t ctl = (g->s.ctl & ~mask) | (cmd & mask);

	account(g, pcie_slot_write_ctl(&g->s, ctl));
}

static void write_sta(struct guest *g, uint16_t val)
{
	account(g, pcie_slot_write_sta(&g->s, val));
}

/* pcie_poll_cmd(): wait for CC by reading, then clear it. */
static void poll_cmd(struct guest *g)
{
	assert_true(g->s.sta & PCI_EXP_SLTSTA_CC);
	write_sta(g, PCI_EXP_SLTSTA_CC);
	assert_false(g->s.sta & PCI_EXP_SLTSTA_CC);
}

/* pciehp_isr() in MSI mode: read, clear what was read, read again. */
static void isr(struct guest *g)
{
	uint16_t st;

	while ((st = g->s.sta & EVENTS)) {
		g->seen |= st;
		write_sta(g, st);
	}
	assert_false(g->s.irq);
}

static void guest_init(struct guest *g, bool occupied)
{
	memset(g, 0, sizeof(*g));
	pcie_slot_init(&g->s, occupied);
}

/* Probe of Linux pciehp: clear, (power off if empty+on), enable events. */
static void linux_probe(struct guest *g)
{
	write_sta(g, EVENTS);
	if (!g->s.occupied && pcie_slot_powered(&g->s)) {
		write_cmd(g, 0, ALL_ENABLES);
		poll_cmd(g);
		write_cmd(g, PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
		poll_cmd(g);
	}
	write_cmd(g, ENABLES_LINUX, ALL_ENABLES);
}

/* ---- tests ---- */

static void test_init_states(void **state)
{
	struct guest g;

	guest_init(&g, false);
	assert_false(pcie_slot_powered(&g.s));
	assert_false(g.s.link_active);
	assert_int_equal(g.s.sta, 0);
	assert_int_equal(pcie_slot_power_indicator(&g.s), 3);	/* off */
	assert_int_equal(pcie_slot_attention_indicator(&g.s), 3);
	guest_init(&g, true);
	assert_true(pcie_slot_powered(&g.s));
	assert_true(pcie_slot_device_on(&g.s));
	assert_true(g.s.link_active);
	assert_int_equal(g.s.sta, PCI_EXP_SLTSTA_PDS);
	assert_string_equal(pcie_slot_indicator_name(1), "on");
	assert_string_equal(pcie_slot_indicator_name(2), "blink");
	assert_string_equal(pcie_slot_indicator_name(0), "reserved");
}

static void test_linux_probe_empty_powered(void **state)
{
	struct guest g;

	guest_init(&g, false);
	/* A slot some reset left powered: Linux turns it off, quietly. */
	g.s.ctl &= ~PCI_EXP_SLTCTL_PCC;
	g.s.sta |= PCI_EXP_SLTSTA_CC;	/* stale bit from before */
	linux_probe(&g);
	assert_false(pcie_slot_powered(&g.s));
	/* Only the last command had CCIE+HPIE: exactly one message. */
	assert_int_equal(g.msis, 1);
	assert_int_equal(g.powers, 0);	/* nothing in it to power */
	isr(&g);
	assert_int_equal(g.seen, PCI_EXP_SLTSTA_CC);
	assert_int_equal(g.s.ctl & ALL_ENABLES, ENABLES_LINUX);
}

static void test_linux_probe_occupied(void **state)
{
	struct guest g;

	guest_init(&g, true);
	linux_probe(&g);
	assert_true(pcie_slot_device_on(&g.s));
	assert_int_equal(g.msis, 1);
	isr(&g);
	assert_int_equal(g.s.sta, PCI_EXP_SLTSTA_PDS);
}

/* Linux board_added(): power on, blink, check link, indicators on. */
static void linux_enable(struct guest *g)
{
	write_cmd(g, PCI_EXP_SLTCTL_PWR_ON, PCI_EXP_SLTCTL_PCC);
	isr(g);
	write_cmd(g, PCI_EXP_SLTCTL_PWR_IND_BLINK, PCI_EXP_SLTCTL_PIC);
	isr(g);
	assert_true(g->s.link_active);
	write_cmd(g, PCI_EXP_SLTCTL_PWR_IND_ON | PCI_EXP_SLTCTL_ATTN_IND_OFF,
		  PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_AIC);
	isr(g);
}

static void test_hot_add_linux(void **state)
{
	struct guest g;
	unsigned act;

	guest_init(&g, false);
	linux_probe(&g);
	isr(&g);
	g.msis = g.seen = 0;
	assert_int_equal(pcie_slot_insert(&g.s, &act), 0);
	account(&g, act);
	/* Linux enables DLLSCE (not PDCE: there is a button): still told. */
	assert_int_equal(g.msis, 1);
	assert_true(g.s.sta & PCI_EXP_SLTSTA_PDS);
	assert_true(g.s.link_active);
	assert_false(pcie_slot_device_on(&g.s));	/* powered off */
	assert_int_equal(g.powers, 0);
	isr(&g);
	assert_int_equal(g.seen, PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC);
	linux_enable(&g);
	assert_true(pcie_slot_device_on(&g.s));
	assert_int_equal(g.powers, 1);
	assert_int_equal(g.msis, 4);	/* the event + three commands */
	assert_int_equal(pcie_slot_insert(&g.s, &act), -EBUSY);
}

static void test_hot_add_into_powered_slot(void **state)
{
	struct guest g;
	unsigned act;

	guest_init(&g, false);
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_ON | PCI_EXP_SLTCTL_PDCE |
		  PCI_EXP_SLTCTL_HPIE, PCI_EXP_SLTCTL_PCC | ALL_ENABLES);
	isr(&g);
	assert_int_equal(pcie_slot_insert(&g.s, &act), 0);
	/* Powered already: the card is reachable at once. */
	assert_true(act & PCIE_SLOT_POWER);
	assert_true(act & PCIE_SLOT_MSI);
	assert_true(pcie_slot_device_on(&g.s));
}

static void plugged_linux_slot(struct guest *g)
{
	unsigned act;

	guest_init(g, false);
	linux_probe(g);
	isr(g);
	assert_int_equal(pcie_slot_insert(&g->s, &act), 0);
	account(g, act);
	isr(g);
	linux_enable(g);
	g->msis = g->ejects = g->powers = g->seen = 0;
}

static void test_orderly_removal_linux(void **state)
{
	struct guest g;
	unsigned act;

	plugged_linux_slot(&g);
	assert_int_equal(pcie_slot_request_removal(&g.s, &act), 0);
	account(&g, act);
	assert_int_equal(g.msis, 1);
	assert_true(g.s.unplug_pending);
	/* A second request while the first is pending is refused. */
	assert_int_equal(pcie_slot_request_removal(&g.s, &act), -EBUSY);
	isr(&g);
	assert_int_equal(g.seen, PCI_EXP_SLTSTA_ABP);
	/* Button press: blink, attention off; 5 s later, power off. */
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_IND_BLINK | PCI_EXP_SLTCTL_ATTN_IND_OFF,
		  PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_AIC);
	isr(&g);
	assert_int_equal(g.ejects, 0);
	assert_true(pcie_slot_device_on(&g.s));
	g.seen = 0;
	g.msis = 0;
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
	/* Power off completes it: one message for CC + PDC + DLLSC. */
	assert_int_equal(g.ejects, 1);
	assert_int_equal(g.msis, 1);
	assert_false(g.s.occupied);
	assert_false(g.s.link_active);
	assert_false(g.s.unplug_pending);
	assert_false(g.s.sta & PCI_EXP_SLTSTA_PDS);
	isr(&g);
	assert_int_equal(g.seen, PCI_EXP_SLTSTA_CC | PCI_EXP_SLTSTA_PDC |
			 PCI_EXP_SLTSTA_DLLSC);
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_IND_OFF, PCI_EXP_SLTCTL_PIC);
	isr(&g);
	assert_int_equal(g.ejects, 1);
	assert_int_equal(pcie_slot_request_removal(&g.s, &act), -ENODEV);
}

static void test_removal_refused_while_blinking(void **state)
{
	struct guest g;
	unsigned act;

	plugged_linux_slot(&g);
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_IND_BLINK, PCI_EXP_SLTCTL_PIC);
	assert_int_equal(pcie_slot_request_removal(&g.s, &act), -EAGAIN);
	assert_false(g.s.sta & PCI_EXP_SLTSTA_ABP);
	assert_false(g.s.unplug_pending);
}

static void test_removal_of_unpowered_card_is_immediate(void **state)
{
	struct guest g;
	unsigned act;

	plugged_linux_slot(&g);
	/* set_slot_off() after a failed enable: card present, power off. */
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
	assert_int_equal(g.powers, 1);
	isr(&g);
	assert_int_equal(pcie_slot_request_removal(&g.s, &act), 1);
	account(&g, act);
	assert_int_equal(g.ejects, 1);
	assert_false(g.s.occupied);
	assert_false(g.s.sta & PCI_EXP_SLTSTA_ABP);
	assert_true(g.s.sta & PCI_EXP_SLTSTA_PDC);
}

static void test_surprise_removal(void **state)
{
	struct guest g;
	unsigned act;

	plugged_linux_slot(&g);
	assert_int_equal(pcie_slot_eject(&g.s, &act), 0);
	account(&g, act);
	assert_int_equal(g.ejects, 1);
	assert_int_equal(g.msis, 1);
	assert_false(g.s.link_active);
	isr(&g);
	assert_int_equal(g.seen, PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC);
	/* Linux: link down -> disable slot -> power off, indicator off. */
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
	isr(&g);
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_IND_OFF, PCI_EXP_SLTCTL_PIC);
	isr(&g);
	assert_int_equal(g.ejects, 1);
	assert_int_equal(g.powers, 0);	/* nothing left to power */
	assert_int_equal(pcie_slot_eject(&g.s, &act), -ENODEV);
}

static void test_surprise_overrides_pending_orderly(void **state)
{
	struct guest g;
	unsigned act;

	plugged_linux_slot(&g);
	assert_int_equal(pcie_slot_request_removal(&g.s, &act), 0);
	assert_int_equal(pcie_slot_eject(&g.s, &act), 0);
	assert_true(act & PCIE_SLOT_EJECTED);
	assert_false(g.s.unplug_pending);
	/* The guest's later power off completes nothing more. */
	act = pcie_slot_write_ctl(&g.s, g.s.ctl | PCI_EXP_SLTCTL_PCC);
	assert_false(act & PCIE_SLOT_EJECTED);
}

static void test_every_write_completes(void **state)
{
	struct guest g;

	guest_init(&g, true);
	/* No enables: CC is set but no message. */
	write_cmd(&g, 0, 0);
	assert_true(g.s.sta & PCI_EXP_SLTSTA_CC);
	assert_int_equal(g.msis, 0);
	write_sta(&g, PCI_EXP_SLTSTA_CC);
	/* Enabling CC notification: that very command interrupts. */
	write_cmd(&g, PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_CCIE, ALL_ENABLES);
	assert_int_equal(g.msis, 1);
	isr(&g);
	/* A write that changes nothing is still a command. */
	for (int i = 0; i < 5; i++) {
		write_cmd(&g, 0, 0);
		assert_int_equal(g.msis, 2 + i);
		isr(&g);
	}
	/* CC pending and not cleared: the next commands add no message. */
	write_cmd(&g, 0, 0);
	write_cmd(&g, 0, 0);
	assert_int_equal(g.msis, 7);
	/* Reserved and read-only control bits do not stick. */
	assert_int_equal(pcie_slot_write_ctl(&g.s, 0xffff) & PCIE_SLOT_EJECTED,
			 0);
	assert_int_equal(g.s.ctl, PCIE_SLOT_CTL_WMASK);
	assert_false(g.s.ctl & PCI_EXP_SLTCTL_EIC);
}

static void test_rw1c_only_what_is_written(void **state)
{
	struct guest g;
	unsigned act;

	guest_init(&g, false);
	write_cmd(&g, PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_PDCE |
		  PCI_EXP_SLTCTL_DLLSCE | PCI_EXP_SLTCTL_CCIE, ALL_ENABLES);
	assert_int_equal(pcie_slot_insert(&g.s, &act), 0);
	account(&g, act);
	assert_int_equal(g.s.sta, PCI_EXP_SLTSTA_PDS | PCI_EXP_SLTSTA_PDC |
			 PCI_EXP_SLTSTA_DLLSC | PCI_EXP_SLTSTA_CC);
	/* Writing 0s, read-only bits or unset bits changes nothing. */
	write_sta(&g, 0);
	write_sta(&g, PCI_EXP_SLTSTA_PDS | PCI_EXP_SLTSTA_MRLSS |
		  PCI_EXP_SLTSTA_EIS);
	write_sta(&g, PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PFD);
	assert_int_equal(g.s.sta, PCI_EXP_SLTSTA_PDS | PCI_EXP_SLTSTA_PDC |
			 PCI_EXP_SLTSTA_DLLSC | PCI_EXP_SLTSTA_CC);
	/* Clearing one event leaves the others (and the condition). */
	write_sta(&g, PCI_EXP_SLTSTA_PDC);
	assert_int_equal(g.s.sta, PCI_EXP_SLTSTA_PDS | PCI_EXP_SLTSTA_DLLSC |
			 PCI_EXP_SLTSTA_CC);
	assert_true(g.s.irq);
	write_sta(&g, PCI_EXP_SLTSTA_CC | PCI_EXP_SLTSTA_DLLSC);
	assert_int_equal(g.s.sta, PCI_EXP_SLTSTA_PDS);
	assert_false(g.s.irq);
}

static void test_no_event_lost(void **state)
{
	struct guest g;
	unsigned act;

	guest_init(&g, false);
	write_cmd(&g, ENABLES_LINUX, ALL_ENABLES);
	isr(&g);
	g.msis = 0;
	/* The ISR read CC, a link change lands before its clear. */
	write_cmd(&g, 0, 0);
	assert_int_equal(g.msis, 1);
	assert_int_equal(pcie_slot_insert(&g.s, &act), 0);
	account(&g, act);
	assert_int_equal(g.msis, 1);	/* condition was already true */
	write_sta(&g, PCI_EXP_SLTSTA_CC);
	/* ...the re-read finds DLLSC: nothing was lost. */
	assert_true(g.s.sta & PCI_EXP_SLTSTA_DLLSC);
	assert_true(g.s.irq);
	isr(&g);
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_ON, PCI_EXP_SLTCTL_PCC);
	assert_int_equal(g.msis, 2);
	isr(&g);
	/* After a full clear, the next event sends a new message. */
	assert_int_equal(pcie_slot_request_removal(&g.s, &act), 0);
	account(&g, act);
	assert_int_equal(g.msis, 3);
}

static void test_enabling_with_pending_event(void **state)
{
	struct guest g;
	unsigned act;

	guest_init(&g, false);
	assert_int_equal(pcie_slot_insert(&g.s, &act), 0);
	assert_false(act & PCIE_SLOT_MSI);	/* nothing enabled */
	/* HPIE + DLLSCE later: the pending DLLSC interrupts now. */
	act = pcie_slot_write_ctl(&g.s, g.s.ctl | PCI_EXP_SLTCTL_HPIE |
				  PCI_EXP_SLTCTL_DLLSCE);
	assert_true(act & PCIE_SLOT_MSI);
	/* Disabling HPIE drops the condition; enabling raises it again. */
	act = pcie_slot_write_ctl(&g.s, g.s.ctl & ~PCI_EXP_SLTCTL_HPIE);
	assert_false(g.s.irq);
	act = pcie_slot_write_ctl(&g.s, g.s.ctl | PCI_EXP_SLTCTL_HPIE);
	assert_true(act & PCIE_SLOT_MSI);
	/* The slot never clears events by itself. */
	assert_true(g.s.sta & PCI_EXP_SLTSTA_PDC);
	assert_true(g.s.sta & PCI_EXP_SLTSTA_DLLSC);
}

static void test_link_disable(void **state)
{
	struct guest g;
	unsigned act;

	guest_init(&g, true);
	write_cmd(&g, PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_DLLSCE, ALL_ENABLES);
	isr(&g);
	act = pcie_slot_write_link(&g.s, true);
	assert_false(g.s.link_active);
	assert_true(act & PCIE_SLOT_MSI);
	/* Link down: the card is out of reach (and reset by its owner). */
	assert_true(act & PCIE_SLOT_POWER);
	assert_false(pcie_slot_device_on(&g.s));
	isr(&g);
	act = pcie_slot_write_link(&g.s, false);
	assert_true(g.s.link_active);
	assert_true(act & PCIE_SLOT_MSI);
	assert_true(act & PCIE_SLOT_POWER);
	assert_true(pcie_slot_device_on(&g.s));
	/* Unchanged Link Disable: no link event. */
	isr(&g);
	act = pcie_slot_write_link(&g.s, false);
	assert_int_equal(act, 0);
}

static void test_power_cycle_without_removal(void **state)
{
	struct guest g;

	plugged_linux_slot(&g);
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_OFF, PCI_EXP_SLTCTL_PCC);
	assert_int_equal(g.powers, 1);
	assert_int_equal(g.ejects, 0);
	assert_false(pcie_slot_device_on(&g.s));
	/* Presence and link follow the card, not the power. */
	assert_true(g.s.occupied);
	assert_true(g.s.link_active);
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_ON, PCI_EXP_SLTCTL_PCC);
	assert_int_equal(g.powers, 2);
	assert_true(pcie_slot_device_on(&g.s));
	/* Same power written again: a command, no power change. */
	write_cmd(&g, PCI_EXP_SLTCTL_PWR_ON, PCI_EXP_SLTCTL_PCC);
	assert_int_equal(g.powers, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_states),
		cmocka_unit_test(test_linux_probe_empty_powered),
		cmocka_unit_test(test_linux_probe_occupied),
		cmocka_unit_test(test_hot_add_linux),
		cmocka_unit_test(test_hot_add_into_powered_slot),
		cmocka_unit_test(test_orderly_removal_linux),
		cmocka_unit_test(test_removal_refused_while_blinking),
		cmocka_unit_test(test_removal_of_unpowered_card_is_immediate),
		cmocka_unit_test(test_surprise_removal),
		cmocka_unit_test(test_surprise_overrides_pending_orderly),
		cmocka_unit_test(test_every_write_completes),
		cmocka_unit_test(test_rw1c_only_what_is_written),
		cmocka_unit_test(test_no_event_lost),
		cmocka_unit_test(test_enabling_with_pending_event),
		cmocka_unit_test(test_link_disable),
		cmocka_unit_test(test_power_cycle_without_removal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
