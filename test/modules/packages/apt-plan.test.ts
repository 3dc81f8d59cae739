/** apt's decisions from canned package states (no host): Ansible's package_status / install / remove. */
import { describe, expect, it } from "vitest";
import { pkgMgr } from "../../../src/facts/pkg-mgr.js";
import { normalizeApt } from "../../../src/modules/packages/apt-args.js";
import { cacheDue, expandSpecs, planInstall, planRemove } from "../../../src/modules/packages/apt-plan.js";
import { type PackageStatus, parsePolicy, parseStatus } from "../../../src/modules/packages/apt-status.js";

const POLICY = [
  "tickless-dummy:",
  "  Installed: 1.0",
  "  Candidate: 1.1",
  "  Version table:",
  "     1.1 500",
  "        500 file:/srv/repo ./ Packages",
  " *** 1.0 500",
  "        500 file:/srv/repo ./ Packages",
  "        100 /var/lib/dpkg/status",
];

function pkg(over: Partial<PackageStatus>): PackageStatus {
  return { name: "p", dpkg: "", versions: ["1.1", "1.0"], candidate: "1.1", provided: false, ...over };
}

describe("apt's reading of the host", () => {
  it("takes the candidate and the version table from apt-cache policy", () => {
    expect(parsePolicy(POLICY)).toEqual({ candidate: "1.1", versions: ["1.1", "1.0"] });
    expect(parsePolicy(["x:", "  Installed: (none)", "  Candidate: (none)", "  Version table:"])).toEqual({
      candidate: undefined,
      versions: [],
    });
  });

  it("splits the probe's output into the cache and each package", () => {
    const out = [
      "@@cache",
      "1700000000",
      "1700000100",
      "/usr/bin/apt-get",
      "@@pkg tickless-dummy",
      "installed\t1.0",
      "@@policy",
      ...POLICY,
      "@@provides",
      "",
    ].join("\n");
    const s = parseStatus(out);
    expect(s.cache).toEqual({ mtime: 1700000000, now: 1700000100, aptGet: "/usr/bin/apt-get" });
    expect(s.packages).toEqual([
      {
        name: "tickless-dummy",
        dpkg: "installed",
        installed: "1.0",
        candidate: "1.1",
        versions: ["1.1", "1.0"],
        provided: false,
      },
    ]);
  });
});

describe("apt's plan", () => {
  it.each([
    ["present, not installed", ["p"], pkg({}), false, ["p=1.1"]],
    [
      "present, installed (a newer candidate is left)",
      ["p"],
      pkg({ dpkg: "installed", installed: "1.0" }),
      false,
      [],
    ],
    [
      "latest, installed at an older version",
      ["p"],
      pkg({ dpkg: "installed", installed: "1.0" }),
      true,
      ["p=1.1"],
    ],
    ["latest, at the candidate", ["p"], pkg({ dpkg: "installed", installed: "1.1" }), true, []],
    ["a pinned version", ["p=1.0"], pkg({}), false, ["p=1.0"]],
    ["a pinned version, installed", ["p=1.0"], pkg({ dpkg: "installed", installed: "1.0" }), false, []],
    ["a pin with a wildcard takes the highest match", ["p=1.*"], pkg({}), false, ["p=1.1"]],
    [
      "a provided virtual package goes to apt-get by name",
      ["v"],
      pkg({ versions: [], candidate: undefined, provided: true }),
      false,
      ["v"],
    ],
  ])("%s", (_what, specs, status, latest, expected) => {
    expect(planInstall(specs, [status], latest)).toEqual(expected);
  });

  it("fails with Ansible's words for an unknown package and for one without a candidate", () => {
    const unknown = pkg({ versions: [], candidate: undefined });
    expect(() => planInstall(["nope"], [unknown], false)).toThrow("No package matching 'nope' is available");
    expect(() => planInstall(["p=9.*"], [pkg({})], false)).toThrow(
      "no available installation candidate for p=9.*",
    );
  });

  it("removes what is installed, and with purge what left files", () => {
    const installed = pkg({ dpkg: "installed", installed: "1.0" });
    const configFiles = pkg({ dpkg: "config-files" });
    expect(planRemove(["p"], [installed], false)).toEqual(["p"]);
    expect(planRemove(["p"], [configFiles], false)).toEqual([]);
    expect(planRemove(["p"], [configFiles], true)).toEqual(["p"]);
    expect(planRemove(["p"], [pkg({ dpkg: "not-installed" })], true)).toEqual([]);
    expect(planRemove(["p=2.0"], [installed], false)).toEqual([]);
  });

  it("expands wildcards against apt's names, native ones unless an architecture is named", () => {
    const known = ["tickless-a", "tickless-b", "tickless-a:i386", "other"];
    expect(expandSpecs(["tickless-*", "other"], known)).toEqual(["tickless-a", "tickless-b", "other"]);
    expect(expandSpecs(["tickless-*:i386"], known)).toEqual(["tickless-a:i386"]);
    expect(expandSpecs(["none-*"], known)).toEqual({ missing: "none-*" });
  });

  it("updates the cache when asked and older than cache_valid_time", () => {
    const cache = { mtime: 1000, now: 1500, aptGet: "apt-get" };
    expect(cacheDue(normalizeApt({ update_cache: true }), cache)).toBe(true);
    expect(cacheDue(normalizeApt({ update_cache: true, cache_valid_time: 600 }), cache)).toBe(false);
    expect(cacheDue(normalizeApt({ cache_valid_time: 100 }), cache)).toBe(true);
    expect(cacheDue(normalizeApt({ name: "p" }), cache)).toBe(false);
  });

  it("takes a name as a comma list or a list, with Ansible's aliases", () => {
    expect(normalizeApt({ pkg: "a, b,c" }).name).toEqual(["a", "b", "c"]);
    expect(normalizeApt({ package: ["a", "b=1.0"], "update-cache": true })).toMatchObject({
      name: ["a", "b=1.0"],
      update_cache: true,
      state: "present",
    });
  });
});

describe("the pkg_mgr fact", () => {
  it.each([
    [["/usr/bin/apt-get"], "Debian", "Debian", "12", "apt"],
    [["/usr/bin/apt-get", "/usr/bin/dnf"], "Debian", "Ubuntu", "22.04", "apt"],
    [["/usr/bin/dnf", "/usr/bin/yum"], "RedHat", "Rocky", "9.2", "dnf"],
    [["/usr/bin/yum"], "RedHat", "CentOS", "7.9", "yum"],
    [["/usr/bin/dnf", "/usr/bin/yum"], "RedHat", "Fedora", "38", "dnf"],
    [["/usr/bin/dnf", "/usr/bin/yum"], "RedHat", "Fedora", "22", "yum"],
    [["/usr/bin/dnf", "/usr/bin/yum"], "RedHat", "Amazon", "2", "yum"],
    [["/usr/bin/dnf", "/usr/bin/yum"], "RedHat", "Amazon", "2023", "dnf"],
    [["/usr/bin/yum"], "RedHat", "Amazon", "2023", "yum"],
    [["/usr/bin/zypper"], "Suse", "openSUSE Leap", "15.5", "zypper"],
    [[], "Debian", "Debian", "12", "apt"],
    [[], "Gentoo", "Gentoo", "2", "unknown"],
  ])("%j on %s %s %s → %s", (paths, family, distribution, version, expected) => {
    expect(pkgMgr(paths, family, distribution, version)).toBe(expected);
  });
});
