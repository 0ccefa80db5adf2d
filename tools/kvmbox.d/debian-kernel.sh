#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Owns the Debian kernel that tools/kvmbox boots and the Linux-guest tests
# use: the package Debian's linux-image-amd64 depends on, fetched from
# Debian's mirror with apt-get (no other download) and unpacked once under
# build/cache/linux/<package>/.  Prints that directory; it holds
# boot/vmlinuz-<version> and lib/modules/<version>/.
#
# A cached kernel is used as it is, so later runs need no mirror; delete
# build/cache/linux to take a newer one.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=$ROOT/build/cache/linux

say() { echo "debian-kernel: $*" >&2; }

cached() {
	local d
	for d in "$CACHE"/linux-image-*/; do
		[[ -f $d/.complete ]] && { echo "${d%/}"; return 0; }
	done
	return 1
}

# The kernel package itself, never the meta-package: linux-image-amd64
# depends on linux-image-<abi>-amd64, which holds vmlinuz and the modules.
kernel_package() {
	local pkg
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [[ -z $pkg ]]; then
		apt-get update -q >/dev/null 2>&1 || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	fi
	[[ -n $pkg ]] || { say "apt-cache knows no linux-image-amd64 (is Debian's mirror in sources.list?)"; return 1; }
	echo "$pkg"
}

fetch() {
	local pkg dir tmp deb kver
	pkg=$(kernel_package) || return 1
	dir=$CACHE/$pkg
	tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
	say "fetching $pkg from Debian's mirror (once; cached in $dir)"
	if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
		rm -rf "$tmp"
		say "apt-get download $pkg failed"
		return 1
	fi
	deb=$(printf '%s\n' "$tmp"/*.deb | head -n 1)
	mkdir -p "$tmp/root"
	if ! dpkg-deb -x "$deb" "$tmp/root" || ! ls "$tmp"/root/boot/vmlinuz-* >/dev/null 2>&1; then
		rm -rf "$tmp"
		say "$deb holds no kernel"
		return 1
	fi
	# The package ships no modules.dep (its postinst makes one): modprobe
	# inside the box and kvmbox's initramfs builder both need it.
	kver=$(ls "$tmp/root/lib/modules")
	if ! depmod -b "$tmp/root" "$kver"; then
		rm -rf "$tmp"
		say "depmod failed for $kver (install kmod)"
		return 1
	fi
	rm -rf "$dir"
	mv "$tmp/root" "$dir"
	rm -rf "$tmp"
	touch "$dir/.complete"
	echo "$dir"
}

mkdir -p "$CACHE"
# Several tests may ask at once: one fetches, the others wait for it.
exec {lock}>"$CACHE/.lock"
flock -w 600 "$lock" || { say "timed out waiting for $CACHE/.lock"; exit 1; }
cached || fetch
