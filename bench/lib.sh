#!/usr/bin/env bash
# Shared by the benchmarks: getting QEMU (the reference) and the CPU model
# it can use on this host.  Sourced; defines QEMU and QEMU_CPU.

QEMU=${QEMU:-qemu-system-x86_64}
QEMU_CPU=host

bench_die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

ensure_qemu() {
	command -v "$QEMU" >/dev/null && return 0
	[[ $(id -u) -eq 0 ]] || bench_die "$QEMU missing; install qemu-system-x86 (as root)"
	echo "$(basename "$0"): installing qemu-system-x86"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		qemu-system-x86 >/dev/null ||
		{ apt-get update -q >/dev/null &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends qemu-system-x86 >/dev/null; } ||
		bench_die "cannot install qemu-system-x86"
}

# QEMU 7.2 with "-cpu host" aborts on some KVM flavours (kvm_pvm) that
# advertise IA32_ARCH_CAPABILITIES but refuse its value; drop the MSR there.
probe_qemu_cpu() {
	local out
	# The failure comes at vCPU setup, well within the first 3 s.
	out=$(timeout 3 "$QEMU" -enable-kvm -machine q35 -cpu host -m 64M \
		-display none -serial none -monitor none 2>&1 </dev/null) || true
	if grep -q 'failed to set MSR' <<<"$out"; then
		QEMU_CPU=host,-arch-capabilities
	fi
}

# bench_huge_pages: let shmem use transparent huge pages for this run and
# restore the setting afterwards (needs on_exit from tests/lib/common.sh).
# QEMU's guest RAM is anonymous memory, which gets huge pages under
# Linux's default THP setting; fvmm's is a memfd (shared memory), whose
# default is "never".  Without this the comparison is 2 MiB against 4 KiB
# pages rather than VMM against VMM.
bench_huge_pages() {
	local knob=/sys/kernel/mm/transparent_hugepage/shmem_enabled old
	[[ -w $knob ]] || { echo "$(basename "$0"): cannot set $knob; fvmm's RAM stays in 4 KiB pages"; return 0; }
	old=$(sed -nE 's/.*\[([a-z_]+)\].*/\1/p' "$knob")
	[[ $old == advise || $old == always || $old == within_size ]] && return 0
	echo "$(basename "$0"): shmem huge pages 'advise' for this run (was '$old'), as QEMU's RAM has them"
	echo advise >"$knob" || return 0
	on_exit "echo $old >$knob"
}

# bench_boxed ARGS: on a host without /dev/kvm, run this benchmark again
# inside tools/kvmbox, where fvmm and QEMU both use the box's /dev/kvm in
# the same run (the ratios compare like with like; absolute times do not
# compare with a bare-metal KVM host).  BENCH_BOX=1 boxes it on a host that
# has /dev/kvm too, to compare the box's ratios with the host's.
bench_boxed() {
	[[ -n ${FVMM_BENCH_IN_BOX:-} ]] && return 0
	[[ -c /dev/kvm && -z ${BENCH_BOX:-} ]] && return 0
	local root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	if [[ -c /dev/kvm ]]; then
		echo "$(basename "$0"): BENCH_BOX set: running inside tools/kvmbox"
	else
		echo "$(basename "$0"): no /dev/kvm on this host: running inside tools/kvmbox"
	fi
	FVMM_BENCH_IN_BOX=1 exec "$root/tools/kvmbox" \
		--timeout "${BENCH_BOX_TIMEOUT:-1800}" -- "$0" "$@"
}

# bench_where: the header line saying where the numbers come from.
bench_where() {
	if [[ -n ${FVMM_BENCH_IN_BOX:-} ]]; then
		echo "where: inside tools/kvmbox: Debian's kvm-amd $(uname -r) on QEMU TCG -cpu max, $(nproc) box vCPUs, host $(cat /proc/sys/kernel/hostname 2>/dev/null); absolute times are not bare-metal KVM times, ratios (same box, same run) are"
	else
		echo "where: directly on this host's /dev/kvm (Linux $(uname -r), $(nproc) CPUs)"
	fi
}
