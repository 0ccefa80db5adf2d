#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <types.h>

u32 pci_conf_read32(u8 bus, u8 dev, u8 fn, u8 off);
void pci_conf_write32(u8 bus, u8 dev, u8 fn, u8 off, u32 v);
void pci_conf_write16(u8 bus, u8 dev, u8 fn, u8 off, u16 v);
unsigned int pci_list_bus0(void);

#endif
