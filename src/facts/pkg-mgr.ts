/**
 * `pkg_mgr`, derived as Ansible's PkgMgrFactCollector does: the last package manager of its list
 * whose program exists on the host, then the distribution family's own (apt on Debian whatever else
 * is installed; dnf or yum on Red Hat by version).
 */

/** Ansible's list, in its order: a program's path → the manager's name. */
export const PKG_MGRS: readonly [string, string][] = [
  ["/usr/bin/rpm-ostree", "atomic_container"],
  ["/usr/bin/yum", "yum"],
  ["/usr/bin/dnf", "dnf"],
  ["/usr/bin/apt-get", "apt"],
  ["/usr/bin/zypper", "zypper"],
  ["/usr/sbin/urpmi", "urpmi"],
  ["/usr/bin/pacman", "pacman"],
  ["/bin/opkg", "opkg"],
  ["/usr/pkg/bin/pkgin", "pkgin"],
  ["/opt/local/bin/pkgin", "pkgin"],
  ["/opt/tools/bin/pkgin", "pkgin"],
  ["/opt/local/bin/port", "macports"],
  ["/usr/local/bin/brew", "homebrew"],
  ["/opt/homebrew/bin/brew", "homebrew"],
  ["/sbin/apk", "apk"],
  ["/usr/sbin/pkg", "pkgng"],
  ["/usr/sbin/swlist", "swdepot"],
  ["/usr/bin/emerge", "portage"],
  ["/usr/sbin/pkgadd", "svr4pkg"],
  ["/usr/bin/pkg", "pkg5"],
  ["/usr/bin/xbps-install", "xbps"],
  ["/usr/local/sbin/pkg", "pkgng"],
  ["/usr/bin/swupd", "swupd"],
  ["/usr/sbin/sorcery", "sorcery"],
  ["/usr/bin/installp", "installp"],
];

/** The facts script's section: the paths of the list that exist (and whether ostree booted). */
export const PKG_MGR_SECTION = [
  "echo @@pkg_mgrs",
  `for p in ${[...PKG_MGRS.map(([p]) => p), "/run/ostree-booted"].join(" ")}; do [ -e "$p" ] && echo "$p"; done`,
].join("\n");

/** The manager's name from the existing paths and the distribution facts (pure). */
export function pkgMgr(
  existing: readonly string[],
  family: string,
  distribution: string,
  version: string,
): string {
  const have = new Set(existing);
  let name = "unknown";
  for (const [path, n] of PKG_MGRS) {
    if (family === "Altlinux" && path === "/usr/bin/pkg") continue;
    if (have.has(path)) name = n;
  }
  const major = Number.parseInt(version.split(".")[0] ?? "", 10);
  const exists = (n: string) => PKG_MGRS.some(([p, m]) => m === n && have.has(p));
  if (family === "RedHat") {
    if (have.has("/run/ostree-booted")) return "atomic_container";
    // Fedora and Amazon name the release dnf came with; before it, yum (when installed)
    const dnfFrom = ({ Fedora: 23, Amazon: 2022 } as Record<string, number>)[distribution];
    if (dnfFrom !== undefined) {
      const want = Number.isNaN(major) || major >= dnfFrom ? "dnf" : "yum";
      return exists(want) ? want : name;
    }
    return major < 8 ? "yum" : "dnf";
  }
  if (family === "Debian" && name !== "apt") return "apt";
  if (family === "Altlinux" && name === "apt") return "apt_rpm";
  return name;
}
