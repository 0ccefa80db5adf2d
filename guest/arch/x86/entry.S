/*
 * PVH entry.  The loader enters pvh_start32 in 32-bit protected mode with
 * paging off, flat segments and EBX = physical address of hvm_start_info.
 * We clear .bss, build a bootstrap identity map of the low 4 GiB with 2 MiB
 * pages (enough to reach start_info, the firmware tables and the MMIO hole;
 * C code replaces it with the real map of all RAM), enter long mode and call
 * kmain(start_info_pa, entry_tsc).
 */

#define XEN_ELFNOTE_PHYS32_ENTRY	18

#define PTE_P		0x001
#define PTE_RW		0x002
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
	movl %eax, %ebp
	movl %edx, %esi
	movl %ebx, %edx			/* start_info survives the bss clear in edx */

	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	movl %edx, boot_start_info
	movl %ebp, boot_entry_tsc
	movl %esi, boot_entry_tsc + 4
	movl $boot_stack_top, %esp

	lgdt boot_gdt_desc
	ljmp $0x08, $1f
1:	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs

	/* PML4[0] -> PDPT, PDPT[0..3] -> the four PDs. */
	movl $boot_pdpt + (PTE_P | PTE_RW), boot_pml4
	movl $boot_pd + (PTE_P | PTE_RW), %eax
	movl $boot_pdpt, %edi
	movl $4, %ecx
2:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 2b

	/* 2048 PDEs of 2 MiB; the top GiB (MMIO hole) uncached. */
	movl $boot_pd, %edi
	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_RW | PTE_PS), %eax
	cmpl $1536, %ecx
	jb 4f
	orl $(PTE_PCD | PTE_PWT), %eax
4:	movl %eax, (%edi, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 3b

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
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl boot_start_info(%rip), %edi
	movq boot_entry_tsc(%rip), %rsi
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

	.section .bss.pagetables, "aw", @nobits
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096

	.section .bss
	.balign 16
	.globl boot_stack_bottom
boot_stack_bottom:
	.skip BOOT_STACK_SIZE
	.globl boot_stack_top
boot_stack_top:
	.balign 8
boot_start_info:
	.skip 4
	.balign 8
boot_entry_tsc:
	.skip 8
