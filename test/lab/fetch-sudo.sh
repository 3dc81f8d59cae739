#!/usr/bin/env bash
# Debian's sudo package, unpacked (not installed) for the lab hosts that need it: the machine itself
# keeps no sudo, so the shared lab still has none. Idempotent; prints the unpacked root
# (<root>/usr/bin/sudo, <root>/usr/libexec/sudo/, <root>/etc/).
#   TICKLESS_SUDO_CACHE   where it lives (default /var/cache/tickless-sudo)
set -euo pipefail
cache="${TICKLESS_SUDO_CACHE:-/var/cache/tickless-sudo}"
if [ -u "$cache/root/usr/bin/sudo" ]; then echo "$cache/root"; exit 0; fi
mkdir -p "$cache/dl"
cd "$cache/dl"
apt_opts=(-o "APT::Sandbox::User=root" -qq)
apt-get "${apt_opts[@]}" download sudo >/dev/null 2>&1 || {
  apt-get "${apt_opts[@]}" update && apt-get "${apt_opts[@]}" download sudo >/dev/null
}
rm -rf "$cache/root.tmp"
dpkg-deb -x sudo_*.deb "$cache/root.tmp"
rm -rf "$cache/root" && mv "$cache/root.tmp" "$cache/root"
rm -rf "$cache/dl"
echo "$cache/root"
