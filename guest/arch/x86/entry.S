/*
 * PVH entry.  The loader enters pvh_start32 in 32-bit protected mode with
 * paging off, flat segments and EBX = physical address of hvm_start_info.
 * We switch to long mode on a prebuilt identity map of the low 4 GiB (enough
 * to reach start_info, the firmware tables and the MMIO hole; C code
 * replaces it with the real map of all RAM) and call
 * kmain(start_info_pa, entry_tsc).
 */

#define XEN_ELFNOTE_PHYS32_ENTRY	18

#define PTE_P		0x001
#define PTE_RW		0x002
#define PTE_US		0x004
#define PTE_PWT		0x008
#define PTE_PCD		0x010
#define PTE_PS		0x080

#define BOOT_STACK_SIZE	16384

	.section .note.pvh, "a", @note
	.balign 4
	.long 4				/* namesz: "Xen\0" */
	.long 4				/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.long pvh_start32
	.balign 4

	.section .text.boot, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	/* Read the TSC first so the boot log can say how long the kernel took. */
	rdtsc
	movl %eax, %ebp			/* entry TSC in esi:ebp, start_info in ebx */
	movl %edx, %esi

	lgdt boot_gdt_desc
	ljmp $0x08, $1f
1:	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs

	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	andl $~0x60000000, %eax		/* caches on: clear CD, NW */
	orl $0x80010001, %eax		/* PG, WP, PE */
	movl %eax, %cr0
	ljmp $0x18, $start64

	.code64
start64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	/*
	 * .bss is not cleared here: it is the part of the PT_LOAD segment past
	 * p_filesz, which the ELF loader must zero (QEMU, Xen and fvmm do).
	 * Clearing it again costs ~7 ms where supervisor code is emulated.
	 */
	movq $boot_stack_top, %rsp
	movl %ebx, %edi			/* kmain(start_info_pa, entry_tsc) */
	shlq $32, %rsi
	movl %ebp, %ebp
	orq %rbp, %rsi
	xorl %ebp, %ebp
	call kmain
5:	cli
	hlt
	jmp 5b

	.section .rodata
	.balign 16
boot_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
boot_gdt_end:
boot_gdt_desc:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	/*
	 * Identity maps of the low 4 GiB with 2 MiB pages, built by the
	 * assembler rather than by code: code this early runs slowly on some
	 * hypervisors.  boot_pd_wb/boot_pd_uc hold a write-back and an
	 * uncached page directory per GiB; the bootstrap map uses write-back
	 * below 3 GiB and uncached for the MMIO hole, and mm.c reuses them
	 * for the final map wherever a GiB is all RAM or has none.
	 * Every entry has U/S set: ring-3 code (user.c) runs from the kernel
	 * image and polls devices through the MMIO hole.  A test guest, not
	 * an isolation boundary.
	 */
	.section .data.pagetables, "aw"
	.balign 4096
boot_pml4:
	.quad boot_pdpt + (PTE_P | PTE_RW | PTE_US)
	.fill 511, 8, 0
boot_pdpt:
	.quad boot_pd_wb + 0 * 4096 + (PTE_P | PTE_RW | PTE_US)
	.quad boot_pd_wb + 1 * 4096 + (PTE_P | PTE_RW | PTE_US)
	.quad boot_pd_wb + 2 * 4096 + (PTE_P | PTE_RW | PTE_US)
	.quad boot_pd_uc + 3 * 4096 + (PTE_P | PTE_RW | PTE_US)
	.fill 508, 8, 0
	.globl boot_pd_wb
boot_pd_wb:
	.set i, 0
	.rept 2048
	.quad (i << 21) | (PTE_P | PTE_RW | PTE_US | PTE_PS)
	.set i, i + 1
	.endr
	.globl boot_pd_uc
boot_pd_uc:
	.set i, 0
	.rept 2048
	.quad (i << 21) | (PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_PCD | PTE_PWT)
	.set i, i + 1
	.endr

	.section .bss
	.balign 16
	.globl boot_stack_bottom
boot_stack_bottom:
	.skip BOOT_STACK_SIZE
	.globl boot_stack_top
boot_stack_top:
