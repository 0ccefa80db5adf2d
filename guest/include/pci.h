#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <types.h>

u32 pci_conf_read32(u8 bus, u8 dev, u8 fn, u8 off);
unsigned int pci_list_bus0(void);

#endif
