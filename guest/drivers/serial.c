/*
 * 16550A UART on COM1.
 *
 * Every port access is a VM exit, which makes the classic "poll LSR before
 * every byte" loop the slowest part of booting.  With the FIFOs on, LSR.THRE
 * means the whole 16-byte transmit FIFO is empty, so we check it once per 16
 * bytes and hand those bytes over with one `rep outsb` (one exit: KVM passes
 * a string I/O instruction's data to the VMM in a single KVM_EXIT_IO).
 *
 * Input is interrupt driven: the RX handler drains the FIFO into a ring that
 * the shell consumes; until the IRQ is routed, readers poll LSR instead.
 */

#include <apic.h>
#include <desc.h>
#include <errno.h>
#include <io.h>
#include <printk.h>
#include <serial.h>
#include <x86.h>

#define UART_RBR	0	/* receive buffer (read, DLAB=0) */
#define UART_THR	0	/* transmit holding (write, DLAB=0) */
#define UART_DLL	0	/* divisor low (DLAB=1) */
#define UART_IER	1
#define UART_DLM	1	/* divisor high (DLAB=1) */
#define UART_FCR	2	/* FIFO control (write) */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5

#define IER_RDA		0x01
#define FCR_ENABLE	0x01
#define FCR_CLEAR_TX	0x04
#define LCR_8N1		0x03
#define LCR_DLAB	0x80
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT2	0x08	/* gates the IRQ line on PC-compatibles */
#define LSR_DR		0x01
#define LSR_THRE	0x20

#define TX_FIFO_SIZE	16
/* Bounded waits so a missing or wedged UART cannot hang the kernel. */
#define THRE_SPINS	100000
#define RX_DRAIN_MAX	64

#define RX_RING_SIZE	256

static u8 rx_ring[RX_RING_SIZE];
static volatile unsigned int rx_head, rx_tail;
static bool rx_irq_on;
static void (*idle_fn)(void);

static inline void uart_out(unsigned int reg, u8 v)
{
	outb(COM1_PORT + reg, v);
}

static inline u8 uart_in(unsigned int reg)
{
	return inb(COM1_PORT + reg);
}

static void rx_drain(void);

/*
 * Input that arrived before we got here (a test piping commands in at once)
 * must survive: the RX FIFO is never cleared, and whatever is pending is
 * read before the FIFO is switched on, because some 16550 models flush it
 * on that transition.  RX trigger level 1 byte: interactive input should
 * not wait for a character timeout the device model may not implement.
 */
void serial_init(void)
{
	uart_out(UART_IER, 0);
	uart_out(UART_LCR, LCR_DLAB);
	uart_out(UART_DLL, 1);		/* 115200 baud */
	uart_out(UART_DLM, 0);
	uart_out(UART_LCR, LCR_8N1);
	rx_drain();
	uart_out(UART_FCR, FCR_ENABLE | FCR_CLEAR_TX);
	uart_out(UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
}

/*
 * Sends from memory in FIFO-sized bursts.  tx_space counts FIFO slots known
 * to be free since the last LSR.THRE check (the FIFO only drains in the
 * meantime, so it is a safe lower bound); LSR is read only when it runs out.
 */
static void tx(const char *buf, size_t n)
{
	static unsigned int tx_space;
	unsigned int spins;
	size_t k;

	while (n) {
		if (!tx_space) {
			spins = THRE_SPINS;
			while (!(uart_in(UART_LSR) & LSR_THRE) && --spins)
				cpu_relax();
			tx_space = TX_FIFO_SIZE;
		}
		k = MIN(n, (size_t)tx_space);
		n -= k;
		tx_space -= k;
		asm volatile("rep outsb"
			     : "+S"(buf), "+c"(k)
			     : "d"((u16)(COM1_PORT + UART_THR))
			     : "memory");
	}
}

/* Translates \n to \r\n; callers serialise (console lock). */
void serial_write(const char *s, size_t n)
{
	const char *end = s + n, *nl;

	while (s < end) {
		for (nl = s; nl < end && *nl != '\n'; nl++)
			;
		tx(s, nl - s);
		if (nl == end)
			break;
		tx("\r\n", 2);
		s = nl + 1;
	}
}

static void rx_push(u8 c)
{
	unsigned int head = rx_head;

	/* Full ring: drop the new byte; the shell is not keeping up anyway. */
	if (head - rx_tail >= RX_RING_SIZE)
		return;
	rx_ring[head % RX_RING_SIZE] = c;
	barrier();
	rx_head = head + 1;
}

static void rx_drain(void)
{
	unsigned int n;

	for (n = 0; n < RX_DRAIN_MAX && (uart_in(UART_LSR) & LSR_DR); n++)
		rx_push(uart_in(UART_RBR));
}

static void serial_irq(struct irq_regs *regs __unused)
{
	rx_drain();
}

int serial_enable_rx_irq(void)
{
	u8 vector = VEC_ISA_BASE + COM1_IRQ;
	u64 flags;
	int ret;

	ret = irq_register(vector, serial_irq);
	if (ret)
		return ret;
	ret = ioapic_route_isa_irq(COM1_IRQ, vector, lapic_id());
	if (ret)
		return ret;
	rx_irq_on = true;
	uart_out(UART_IER, IER_RDA);
	/* Bytes that arrived before IER was set raised no interrupt. */
	flags = irq_save();
	rx_drain();
	irq_restore(flags);
	return 0;
}

/* Non-blocking: a byte, or -1.  Single consumer (the BSP shell). */
int serial_getc(void)
{
	unsigned int tail = rx_tail;
	u8 c;

	if (!rx_irq_on)
		rx_drain();
	if (tail == rx_head)
		return -1;
	c = rx_ring[tail % RX_RING_SIZE];
	barrier();
	rx_tail = tail + 1;
	return c;
}

/*
 * Blocks in hlt until a byte arrives.  Interrupts are off between the empty
 * check and `sti; hlt`, so an RX interrupt cannot slip in between and leave
 * us asleep with data in the ring.  Without the RX IRQ the timer tick wakes
 * us to poll.
 */
int serial_getc_wait(void)
{
	int c;

	for (;;) {
		/* Lines ring 3 noted (fo0's poller) wait here at the latest. */
		console_flush_deferred();
		irq_disable();
		c = serial_getc();
		if (c >= 0) {
			irq_enable();
			return c;
		}
		if (idle_fn) {
			irq_enable();
			idle_fn();
			continue;
		}
		safe_halt();
	}
}

/*
 * Work for the shell's CPU while it waits for input, instead of hlt (the
 * network poller when there is no spare CPU).  fn must return soon after
 * serial_input_pending() turns true.  Needs the RX interrupt: without it
 * input is only seen by polling the UART, which fn may not do.
 */
int serial_set_idle(void (*fn)(void))
{
	if (!rx_irq_on)
		return -ENODEV;
	idle_fn = fn;
	return 0;
}

/* Input is waiting in the ring.  Plain memory reads: ring-3 safe. */
bool serial_input_pending(void)
{
	return rx_head != rx_tail;
}
