#!/usr/bin/env bash
# Proves the README's first two commands on a fresh Debian 12 system that has only Node 20 and git:
# builds a minimal Debian 12 (bookworm) chroot with debootstrap, copies in this machine's Node 20 and
# its npm, clones the repository's committed HEAD into it, and runs inside the chroot
#   npm install && npm run demo      then   git status --porcelain   (must print nothing)
#   npm run test:all                 (unless --no-test-all; it apt-installs packages inside the chroot)
# Usage (root required):
#   sudo bash scripts/fresh-machine-check.sh [--no-test-all] [--keep] [--root DIR] [--repo DIR]
#     --root DIR   where the chroot is built (default /var/tmp/tickless-fresh); an existing
#                  debootstrap there is reused, the clone inside it is made anew
#     --repo DIR   the repository to clone (default: the one this script is in)
#     --keep       leave the chroot on disk afterwards (its mounts are always removed)
# Side effects: only the chroot directory. The machine's own apt sources, services and kernel
# settings are not touched; /proc, /sys and /dev are bind-mounted into the chroot and unmounted
# by a trap on every exit. Logs: DIR/fresh-check-*.log. Exit status: 0 when every step passed.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
root=/var/tmp/tickless-fresh repo=$here test_all=1 keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-test-all) test_all=0 ;;
    --keep) keep=1 ;;
    --root) root=${2:?--root needs a directory}; shift ;;
    --repo) repo=${2:?--repo needs a directory}; shift ;;
    *) echo "fresh-machine-check: unknown option $1 (expected --no-test-all, --keep, --root DIR, --repo DIR)" >&2; exit 5 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "fresh-machine-check: run as root (debootstrap, chroot and mounts need it)" >&2; exit 1; }
for tool in debootstrap git chroot mount umount; do
  command -v "$tool" >/dev/null 2>&1 || { echo "fresh-machine-check: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done
node_bin=$(command -v node) || { echo "fresh-machine-check: no node on PATH to copy in" >&2; exit 1; }
node_bin=$(readlink -f "$node_bin")
node_major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || echo "fresh-machine-check: warning: this machine's node is $("$node_bin" -v), not 20" >&2
npm_dir=$(dirname "$node_bin")/../lib/node_modules/npm
[ -f "$npm_dir/bin/npm-cli.js" ] || { echo "fresh-machine-check: npm not found next to $node_bin" >&2; exit 1; }

# The machine's Debian mirror: the first non-security URI of its apt sources (deb822 or one-line).
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}')
[ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
  awk '/^deb / && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}')
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

mounted=()
cleanup() {
  local i p
  # what still runs inside the chroot (a build, a lab host of an interrupted test) holds its mounts
  for p in /proc/[0-9]*; do [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill "${p#/proc/}" 2>/dev/null; done
  sleep 1
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do # the root's bind mount and all below it
    umount -R "${mounted[$i]}" 2>/dev/null || umount -lR "${mounted[$i]}" 2>/dev/null ||
      echo "fresh-machine-check: could not unmount ${mounted[$i]}" >&2
  done
  mounted=()
  if [ "$keep" = 0 ] && [ -d "$root" ] && ! grep -q " $root[/ ]" /proc/mounts; then rm -rf "$root"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$root"
log_dir=$root.logs
mkdir -p "$log_dir"
step() { printf '\n== %s\n' "$*"; }
results=()
record() { results+=("$(printf '%-6s %s' "$1" "$2")"); }

if [ ! -x "$root/usr/bin/git" ]; then
  step "debootstrap bookworm (minbase + git) from $mirror into $root"
  debootstrap --variant=minbase --include=git,ca-certificates bookworm "$root" "$mirror" \
    >"$log_dir/debootstrap.log" 2>&1 || { tail -20 "$log_dir/debootstrap.log" >&2; echo "fresh-machine-check: debootstrap failed (log: $log_dir/debootstrap.log)" >&2; exit 1; }
fi
record PASS "debootstrap Debian $(cat "$root/etc/debian_version") from $mirror"

step "copy node $("$node_bin" -v) and npm $("$node_bin" "$npm_dir/bin/npm-cli.js" -v) into the chroot"
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
rm -rf "$root/usr/local/lib/node_modules/npm"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# This machine's network: the extra CAs it trusts (a TLS-inspecting proxy's, say) are trusted in the
# chroot too, and Node is pointed at them when it is here; a fresh machine on this network needs the same.
extra_ca=()
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1 || { echo "fresh-machine-check: update-ca-certificates failed in the chroot" >&2; exit 1; }
  [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && extra_ca=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
fi

step "mount /proc, /sys, /dev into the chroot"
# The chroot's / must be a mount point, as a machine's root is: unshare(1), which the SSH lab
# uses, refuses to change the propagation of a / that is not one. Private: nothing mounted below
# it shows up in the machine's own tree.
mount --bind "$root" "$root" && mounted+=("$root") || exit 1
mount --make-private "$root" || exit 1
mount -t proc proc "$root/proc" || exit 1
for fs in sys dev; do
  mount --rbind "/$fs" "$root/$fs" || exit 1
  mount --make-rslave "$root/$fs" || exit 1 # unmounting the copy must never reach the machine's own
done
mount -t tmpfs tmpfs "$root/run" || exit 1
mkdir -p "$root/tmp" && chmod 1777 "$root/tmp"

step "git clone $repo (HEAD $(git -C "$repo" rev-parse --short HEAD))"
rm -rf "$root/root/tickless"
git clone -q "$repo" "$root/root/tickless" || exit 1

in_chroot() { # a login-like environment: nothing of this machine's shell leaks in
  chroot "$root" /usr/bin/env -i HOME=/root USER=root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${extra_ca[@]}" \
    /bin/bash -c "cd /root/tickless && $1"
}
run_step() { # name, command; logs to $log_dir/fresh-check-<name>.log
  local name=$1 log="$log_dir/fresh-check-$1.log"
  step "$2   (log: $log)"
  local rc=0
  in_chroot "$2" >"$log" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then record PASS "$2"; return 0; fi
  tail -30 "$log"
  record FAIL "$2 (exit $rc, log: $log)"
  return 1
}

status=0
run_step install "npm install" || status=1
if [ "$status" = 0 ]; then
  run_step demo "npm run demo" || status=1
  tail -8 "$log_dir/fresh-check-demo.log"
fi
dirty=$(in_chroot "git status --porcelain" 2>&1)
if [ -z "$dirty" ]; then record PASS "git status --porcelain is empty"
else record FAIL "git status --porcelain: $(echo "$dirty" | tr '\n' ' ')"; status=1; fi
if [ "$test_all" = 1 ] && [ "$status" = 0 ]; then
  run_step test-all "npm run test:all" || status=1
  grep -E '^ *(Test Files|Tests) ' "$log_dir/fresh-check-test-all.log" | tail -2
  sed -n '/^Not run:/,$p' "$log_dir/fresh-check-test-all.log" | head -20
elif [ "$test_all" = 1 ]; then
  record SKIP "npm run test:all (an earlier step failed)"
fi

printf '\n== fresh-machine-check results\n'
printf '%s\n' "${results[@]}"
exit "$status"
