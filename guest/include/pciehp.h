/*
 * Native PCIe hotplug for root ports with a hot-plug capable slot: MSI
 * interrupts, hot-add (power on, enable, bind), orderly removal by the
 * attention button and surprise removal.
 */
#ifndef GUEST_PCIEHP_H
#define GUEST_PCIEHP_H

/* Find the slots, enable their events, bind cards already present. */
void pciehp_init(void);
/* Boot option pciehp.delay_ms=N: wait before powering off (button). */
int pciehp_opt_delay(const char *name, const char *val);
int pciehp_opt_button(const char *name, const char *val);
/* Shell: `slots`. */
void pciehp_cmd_slots(int argc, char **argv);

#endif
