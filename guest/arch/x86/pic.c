/* Legacy 8259 PICs: not used.  Masking their inputs is enough, because LINT0
 * (their path into the CPU) is masked in every LAPIC as well; no remap. */

#include <apic.h>
#include <io.h>

#define PIC1_DATA	0x21
#define PIC2_DATA	0xa1

void pic_disable(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}
