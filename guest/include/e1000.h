/*
 * Intel 82540EM (e1000) driver: legacy descriptors, INTx.  Bound and
 * unbound by the hotplug driver; one instance per slot, kept across
 * unbind so the slot's card always comes back as the same ethN.
 */
#ifndef GUEST_E1000_H
#define GUEST_E1000_H

#include <pci_dev.h>

#define E1000_VENDOR_ID		0x8086
#define E1000_DEVICE_82540EM	0x100e

/*
 * Bind the NIC at pd (decoding and bus mastering on) for slot `key`, its
 * INTx on IOAPIC input gsi (level, active low).  Returns 0 and the
 * interface name in *ifname, or -errno (the device is left quiet; -EBUSY
 * if another bound e1000 uses gsi).
 */
int e1000_bind(struct pci_dev *pd, unsigned int key, unsigned int gsi,
	       const char **ifname);
/*
 * Stop using slot key's NIC.  present: the card is still there, so stop
 * its DMA and interrupts first; otherwise its registers are not touched.
 */
void e1000_unbind(unsigned int key, bool present);

#endif
