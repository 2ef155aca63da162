#!/usr/bin/env bash
# Installs the Debian packages for the real Dovecot the tests and the sandbox run (see README).
set -euo pipefail
packages=(dovecot-core dovecot-imapd dovecot-managesieved dovecot-sieve dovecot-lmtpd)
[ "${1:-}" = "--with-bench" ] && packages+=(isync)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Please install: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The packages try to start a system dovecot.service; ours never uses it.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
