/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CONTROL_QMP_PCI_H
#define FVMM_CONTROL_QMP_PCI_H

/*
 * QMP commands about PCI devices (registered by pci_machine_init()):
 *
 *   device_add {"driver": "e1000"|"virtio-net-pci", "id": ID, "bus": RP,
 *               "netdev": ND, "mac": MAC, "failover": bool|"on"|"off",
 *               "failover_pair_id": STANDBY, "addr": "0"|0}
 *      Hot-plugs a NIC into root port RP's slot (or hides a failover
 *      primary until its standby negotiates STANDBY).  QEMU's errors.
 *   device_del {"id": ID, "mode": "orderly"|"surprise"}
 *      "mode" is an fvmm extension: orderly (default, QEMU's behaviour)
 *      presses the attention button and the removal completes when the
 *      guest powers the slot off; surprise takes the card away at once.
 *      Either way DEVICE_DELETED follows when the device is gone.
 *   query-pci                     QEMU's PciInfo list (bridges nested)
 *   x-query-hotplug               every root port slot: power, indicators,
 *                                 presence, link, pending removals
 *   x-query-failover              failover pairs and their state
 */

int qmp_pci_register_commands(void);

#endif
