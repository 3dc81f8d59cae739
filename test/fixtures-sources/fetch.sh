#!/usr/bin/env bash
# Fetches the upstream jemalloc and Redis release tarballs from Debian's source packages, with an apt
# configuration of its own (a deb-src twin of every Debian mirror this machine already uses, private
# lists/cache dirs): the machine's apt sources and state are never changed. Idempotent: cached
# tarballs whose sha256 matches SHA256SUMS are kept. Prints the cache dir.
#   TICKLESS_SRC_CACHE   where the tarballs live (default /var/cache/tickless-src)
set -euo pipefail
cache="${TICKLESS_SRC_CACHE:-/var/cache/tickless-src}"
want=(jemalloc_5.3.0.orig.tar.bz2 redis_7.0.15.orig.tar.gz)
mkdir -p "$cache"
cd "$cache"

have_all() {
  [ -s SHA256SUMS ] || return 1
  for f in "${want[@]}"; do [ -s "$f" ] || return 1; done
  sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1
}
if have_all; then echo "$cache"; exit 0; fi

apt_dir="$cache/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" "$apt_dir/dl"
# deb-src twins of the enabled deb822 stanzas and one-line entries that point at a Debian mirror.
: >"$apt_dir/sources.list.d/debian-src.sources"
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  awk 'BEGIN{RS="";ORS="\n\n"} /URIs:[^\n]*debian/ && /Types:[^\n]*deb/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f" \
    >>"$apt_dir/sources.list.d/debian-src.sources"
done
: >"$apt_dir/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  sed -n 's/^[[:space:]]*deb[[:space:]]\(.*debian.*\)$/deb-src \1/p' "$f" >>"$apt_dir/sources.list"
done
if ! grep -q deb-src "$apt_dir/sources.list" && ! grep -q deb-src "$apt_dir/sources.list.d/debian-src.sources"; then
  echo "fetch.sh: no Debian mirror configured in /etc/apt/sources.list*" >&2
  exit 1
fi
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  -o "APT::Sandbox::User=root"
)
apt-get "${apt_opts[@]}" -qq update
(cd "$apt_dir/dl" && apt-get "${apt_opts[@]}" -qq --download-only source jemalloc redis >/dev/null)
for f in "${want[@]}"; do
  cp "$apt_dir/dl/$f" "$cache/$f.tmp" && mv "$cache/$f.tmp" "$cache/$f"
done
sha256sum "${want[@]}" >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS
rm -rf "$apt_dir/dl"
echo "$cache"
