#!/usr/bin/env bash
# Installs what the test suites need when it is missing, then fetches the jemalloc and Redis source
# tarballs the build tests use. Safe to run again: it installs nothing that is already there.
#   bash scripts/test-setup.sh         the default suites (npm test)
#   bash scripts/test-setup.sh --vm    also the VM suite's tools (qemu, debootstrap, sfdisk)
#   bash scripts/test-setup.sh --list  only print what is missing, install nothing
# Debian/Ubuntu: apt-get (through sudo when not root). RHEL family: dnf. Elsewhere: the list to install.
# Side effects, besides the packages: the tarballs are cached in ${TICKLESS_SRC_CACHE:-/var/cache/tickless-src}
# by test/fixtures-sources/fetch.sh, which uses an apt configuration of its own under that directory
# (deb-src twins of the machine's Debian mirrors; the machine's apt sources are not changed).
set -uo pipefail
cd "$(dirname "$0")/.."

vm=0 list=0
for arg in "$@"; do
  case "$arg" in
    --vm) vm=1 ;;
    --list) list=1 ;;
    *) echo "test-setup: unknown option $arg (expected --vm or --list)" >&2; exit 5 ;;
  esac
done

# path:debian-package:rhel-package — what each suite needs (a command, or a file a package installs).
needs=(
  /usr/sbin/sshd:openssh-server:openssh-server           # lab hosts: real sshd in namespaces
  /usr/bin/ssh:openssh-client:openssh-clients
  /usr/bin/unshare:util-linux:util-linux                   # lab hosts: namespaces
  /usr/bin/chattr:e2fsprogs:e2fsprogs                      # immutable-file fault tests
  /usr/bin/python3:python3:python3
  /usr/bin/ansible-playbook:ansible-core:ansible-core      # parity suites: ansible-core is the referee
  /usr/bin/redis-server:redis-server:redis                 # Redis playbooks on the lab
  /usr/bin/redis-benchmark:redis-tools:redis               # latency runs and the A/B gate
  /usr/bin/make:build-essential:make                       # jemalloc and Redis builds
  /usr/bin/gcc:build-essential:gcc
  /usr/bin/bzip2:bzip2:bzip2
  /usr/bin/curl:curl:curl
  /usr/bin/dpkg-source:dpkg-dev:dpkg-dev                   # apt-get source for the tarballs
  /usr/bin/systemctl:systemd:systemd                       # lab hosts are shaped like a Debian host: /etc/systemd/system, /etc/tmpfiles.d (systemd need not run)
  /usr/bin/dnf:dnf:dnf                                     # dnf and yum parity: dnf into a temp installroot
  /usr/lib/python3/dist-packages/dnf:python3-dnf:python3-dnf # the referee's dnf module
  /usr/bin/rpmbuild:rpm:rpm-build                          # the dnf suite's test packages
  /usr/bin/createrepo_c:createrepo-c:createrepo_c          # the dnf suite's local repository
)
if [ "$vm" = 1 ]; then
  needs+=(
    /usr/sbin/debootstrap:debootstrap:debootstrap
    /usr/bin/qemu-system-x86_64:qemu-system-x86:qemu-system-x86
    /usr/bin/qemu-img:qemu-utils:qemu-img
    /usr/sbin/sfdisk:fdisk:util-linux
  )
fi

family=other
if command -v apt-get >/dev/null 2>&1; then family=debian
elif command -v dnf >/dev/null 2>&1; then family=rhel
fi

missing=()
for entry in "${needs[@]}"; do
  IFS=: read -r path deb rpm <<<"$entry"
  [ -e "$path" ] && continue
  pkg=$deb
  [ "$family" = rhel ] && pkg=$rpm
  case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "test-setup: missing packages: ${missing[*]}"
  if [ "$list" = 1 ]; then exit 0; fi
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "test-setup: not root and no sudo: install ${missing[*]} as root" >&2; exit 1; }
    sudo=(sudo)
  fi
  case "$family" in
    debian)
      export DEBIAN_FRONTEND=noninteractive
      "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq || exit 1
      "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || exit 1
      ;;
    rhel)
      "${sudo[@]}" dnf install -y "${missing[@]}" || exit 1
      ;;
    *)
      echo "test-setup: no apt-get or dnf here: install these packages (names as in Debian): ${missing[*]}" >&2
      exit 1
      ;;
  esac
elif [ "$list" = 1 ]; then
  echo "test-setup: nothing missing"
  exit 0
fi

# sshd refuses to start without its privilege-separation directory.
[ -d /run/sshd ] || { if [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd; else sudo mkdir -p /run/sshd; fi; }

echo "test-setup: jemalloc and Redis source tarballs"
bash test/fixtures-sources/fetch.sh || exit 1
