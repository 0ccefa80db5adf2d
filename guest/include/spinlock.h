/* Test-and-test-and-set spinlock; the irqsave form is for anything an IRQ
 * handler might also take. */
#ifndef GUEST_SPINLOCK_H
#define GUEST_SPINLOCK_H

#include <compiler.h>
#include <x86.h>

struct spinlock {
	volatile u32 locked;
};

#define SPINLOCK_INIT { 0 }

static inline bool spin_trylock(struct spinlock *l)
{
	return __atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) == 0;
}

/*
 * Spin at most `cycles` TSC cycles, and stop early once *stop (if given)
 * turns non-zero; false if the lock was not taken.  For callers whose
 * lock holder may never run meanwhile (ring 0 over a ring-3 holder on the
 * same CPU) or who must give way to someone else.
 */
static inline bool spin_lock_bounded(struct spinlock *l, u64 cycles,
				     const volatile u32 *stop)
{
	u64 start = rdtsc();

	while (!spin_trylock(l)) {
		if (rdtsc() - start > cycles || (stop && READ_ONCE(*stop)))
			return false;
		cpu_relax();
	}
	return true;
}

static inline void spin_lock(struct spinlock *l)
{
	while (!spin_trylock(l)) {
		while (READ_ONCE(l->locked))
			cpu_relax();
	}
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

static inline u64 spin_lock_irqsave(struct spinlock *l)
{
	u64 flags = irq_save();

	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, u64 flags)
{
	spin_unlock(l);
	irq_restore(flags);
}

#endif
