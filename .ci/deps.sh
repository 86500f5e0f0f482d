#!/usr/bin/env bash
# Install the Debian packages that gemmash's build and tests need, when missing.
# Runs apt-get only if something is missing and we are root (or have sudo).
set -u
need_cmd() { command -v "$1" >/dev/null 2>&1; }
pkgs=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
for p in gcc make pkg-config libcurl4-openssl-dev libcjson-dev libreadline-dev libseccomp-dev \
         python3 python3-numpy git tmux clang libclang-rt-14-dev; do
    have_pkg "$p" || pkgs+=("$p")
done
need_cmd node || pkgs+=(nodejs)
need_cmd npm || pkgs+=(npm)
[ "${#pkgs[@]}" -eq 0 ] && exit 0
echo "gemmash: installing missing Debian packages: ${pkgs[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then SUDO=; elif need_cmd sudo; then SUDO=sudo; else
    echo "gemmash: cannot install ${pkgs[*]}: not root and no sudo; install them and run again" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || { echo "gemmash: apt-get update failed" >&2; exit 1; }
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null ||
    { echo "gemmash: apt-get install ${pkgs[*]} failed" >&2; exit 1; }
