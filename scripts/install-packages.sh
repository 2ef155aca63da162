#!/usr/bin/env bash
# Installs the Debian packages Postmaster runs against locally (see README):
#   (no flag)   Dovecot, for the sandbox;
#   --tests     also Redis and PostgreSQL, which the store tests start throwaway servers of;
#   --bench     also mbsync (isync), the export benchmark's peer.
set -euo pipefail
packages=(dovecot-core dovecot-imapd dovecot-managesieved dovecot-sieve dovecot-lmtpd)
for flag in "$@"; do
  case "$flag" in
    --tests) packages+=(redis-server postgresql) ;;
    --bench) packages+=(isync) ;;
    *) echo "unknown flag $flag (use --tests, --bench)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Please install: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The packages try to start system services (dovecot, redis, a postgresql cluster); ours never use them.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
