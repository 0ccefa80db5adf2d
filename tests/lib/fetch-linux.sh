#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Print the path of a stock Debian x86-64 kernel (vmlinuz), fetching it on
# first use.  The kernel comes from the versioned package that Debian's
# linux-image-amd64 metapackage depends on; it is downloaded with apt-get and
# unpacked into a cache, never installed on the host.
#
#   tests/lib/fetch-linux.sh            -> /root/.cache/fvmm/linux/<pkg>/boot/vmlinuz-...
#   FVMM_CACHE=/some/dir tests/lib/fetch-linux.sh
#
# Exit status 0 with the path on stdout, or non-zero with the reason on stderr.
# apt-get update runs only when resolving or downloading fails (stale lists).
set -euo pipefail

cache="${FVMM_CACHE:-$HOME/.cache/fvmm}/linux"

die() {
	echo "fetch-linux: $*" >&2
	exit 1
}

# The newest vmlinuz already unpacked in the cache, if any.
cached_vmlinuz() {
	local f

	f=$(printf '%s\n' "$cache"/*/boot/vmlinuz-* | sort -V | tail -n 1)
	[ -s "$f" ] && echo "$f"
}

# linux-image-amd64 -> linux-image-6.1.0-NN-amd64
resolve_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

download() {
	local pkg

	pkg=$(resolve_pkg) || true
	[ -n "$pkg" ] || return 1
	# The cache may live under a 0700 home that apt's _apt user cannot
	# enter; download as the caller instead of warning about it.
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg") >&2 ||
		return 1
	[ -f "$(deb_of "$pkg")" ] || return 1
	echo "$pkg"
}

deb_of() {
	printf '%s\n' "$tmp/$1"_*.deb | head -n 1
}

fetch() {
	local pkg deb

	pkg=$(download) || {
		echo "fetch-linux: download failed, running apt-get update" >&2
		apt-get update -q >&2 || die "apt-get update failed"
		pkg=$(download) || die "cannot download the package linux-image-amd64 depends on"
	}
	deb=$(deb_of "$pkg")
	# Only ./boot is needed; the modules would add hundreds of MiB.
	mkdir -p "$tmp/root"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/root" ./boot ||
		die "cannot unpack $deb"
	[ -f "$(printf '%s\n' "$tmp"/root/boot/vmlinuz-* | head -n 1)" ] ||
		die "$deb has no /boot/vmlinuz-*"
	rm -rf "${cache:?}/$pkg"
	mv "$tmp/root" "$cache/$pkg"
}

mkdir -p "$cache"
# Concurrent test runs share the cache: one fetches, the others wait.
exec 9>"$cache/.lock"
flock -w 600 9 || die "timed out waiting for $cache/.lock"

if ! vmlinuz=$(cached_vmlinuz); then
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	fetch
	vmlinuz=$(cached_vmlinuz) || die "no vmlinuz in $cache after unpacking"
fi
echo "$vmlinuz"
