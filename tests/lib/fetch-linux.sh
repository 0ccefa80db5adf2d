#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Print the path of a stock Debian x86-64 kernel (vmlinuz), fetching it on
# first use.  The package, its cache and its modules are owned by
# tools/kvmbox.d/debian-kernel.sh (the box boots the same kernel).
#
#   tests/lib/fetch-linux.sh        -> build/cache/linux/<pkg>/boot/vmlinuz-...
#
# Exit status 0 with the path on stdout, or non-zero with the reason on stderr.
set -euo pipefail

root=$("$(dirname "$0")/../../tools/kvmbox.d/debian-kernel.sh")
vmlinuz=$(printf '%s\n' "$root"/boot/vmlinuz-* | head -n 1)
[[ -s $vmlinuz ]] || { echo "fetch-linux: no vmlinuz in $root" >&2; exit 1; }
echo "$vmlinuz"
