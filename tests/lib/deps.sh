#!/usr/bin/env bash
# Install the Debian packages fvmm's build and tests need, once.
# Sourced or run by the demo and the test runner; idempotent and quiet when
# everything is already there.  See README.md for why each package is needed.
FVMM_DEPS=(
	build-essential		# gcc, make: the VMM, the guest, the tools
	clang			# libFuzzer targets
	libclang-rt-14-dev	# sanitizer + fuzzer runtimes for clang
	libjansson-dev		# JSON for QMP and machine-readable reports
	libcmocka-dev		# unit tests
	iproute2		# network namespaces, veth, bridges, taps (e2e)
	iputils-ping		# ping from the peer namespace (e2e)
	python3			# the boot benchmark's line timestamper
	procps			# pgrep/ps in test cleanup
)

fvmm_missing_deps() {
	local pkg missing=()
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$pkg")
	done
	echo "${missing[@]:-}"
}

fvmm_install_deps() {
	fvmm_install_pkgs "${FVMM_DEPS[@]}"
}

# fvmm_install_pkgs PKG...: install those of PKG that are missing.
fvmm_install_pkgs() {
	local missing
	missing=$(fvmm_missing_deps "$@")
	[[ -z $missing ]] && return 0
	if [[ $(id -u) -ne 0 ]]; then
		echo "fvmm: missing Debian packages: $missing (run as root to install)" >&2
		return 1
	fi
	echo "fvmm: installing Debian packages: $missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	fvmm_install_deps
fi
