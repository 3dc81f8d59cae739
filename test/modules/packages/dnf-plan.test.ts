/**
 * dnf's decisions from canned package lists (no host): Ansible's _is_installed and ensure(), and the
 * reading of dnf's `--assumeno` transaction table (tables as dnf 4 prints them); the load-time refusals
 * through the built CLI (dist/, `npm run build`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { normalizeDnf } from "../../../src/modules/packages/dnf-args.js";
import {
  installedMatches,
  isInstalled,
  parseTransaction,
  planSteps,
  type Rpm,
  resultLines,
  stepCommand,
  unmatched,
} from "../../../src/modules/packages/dnf-plan.js";
import { removeDir, tempDir } from "../../support/fs.js";

const rpm = (name: string, version: string, epoch = "0"): Rpm => ({
  name,
  epoch,
  version,
  release: "1",
  arch: "noarch",
});
const installed = [rpm("tickless-dummy", "1.0"), rpm("tickless-epoch", "2.0", "3")];

const INSTALL = `Dependencies resolved.
================================================================================
 Package                                            Arch    Version
                                                                   Repo    Size
================================================================================
Installing:
 tickless-a-package-with-a-rather-long-name-indeed  noarch  3.0-1  local  6.1 k
 tickless-other                                     noarch  2.0-1  local  5.9 k
Installing dependencies:
 tickless-a-dependency-whose-name-is-too-long-for-its-column
                                                    noarch  1:1.0-2
                                                                   local   929
Transaction Summary
================================================================================
Install  3 Packages
`;

const UPGRADE = `Dependencies resolved.
================================================================================
 Package                 Architecture    Version           Repository      Size
================================================================================
Upgrading:
 tickless-dummy          noarch          1.1-1             local          5.9 k

Transaction Summary
================================================================================
Upgrade  1 Package
`;

describe("dnf's decisions", () => {
  it("reads the transaction table, wrapped rows and sizes in bytes too", () => {
    expect(parseTransaction(INSTALL).map((p) => `${p.action} ${p.nevra}`)).toEqual([
      "install tickless-a-package-with-a-rather-long-name-indeed-3.0-1.noarch",
      "install tickless-other-2.0-1.noarch",
      "install tickless-a-dependency-whose-name-is-too-long-for-its-column-1:1.0-2.noarch",
    ]);
    expect(parseTransaction("Dependencies resolved.\nNothing to do.\nComplete!\n")).toEqual([]);
  });

  it("lists an upgrade as Ansible does: the new version installed, the old one removed", () => {
    expect(resultLines(parseTransaction(UPGRADE), installed)).toEqual([
      "Installed: tickless-dummy-1.1-1.noarch",
      "Removed: tickless-dummy-1.0-1.noarch",
    ]);
  });

  it("tells installed specs as Ansible's _is_installed: a name, or a full name-version-release", () => {
    expect(isInstalled("tickless-dummy", installed)).toBe(true);
    expect(isInstalled("tickless-dummy.noarch", installed)).toBe(true);
    expect(isInstalled("tickless-dummy.x86_64", installed)).toBe(false);
    expect(isInstalled("tickless-dummy-1.0-1", installed)).toBe(true);
    expect(isInstalled("tickless-dummy-1.1-1", installed)).toBe(false);
    expect(isInstalled("tickless-epoch-3:2.0-1", installed)).toBe(true);
    // name-version without the release is no NVR to Ansible: dnf decides
    expect(isInstalled("tickless-dummy-1.0", installed)).toBe(false);
    expect(isInstalled("tickless-d*", installed)).toBe(false);
  });

  it("sends each spec to the transaction Ansible would", () => {
    const steps = (w: Record<string, unknown>) => planSteps(normalizeDnf(w), installed);
    expect(steps({ name: "tickless-dummy,tickless-other" })).toEqual([
      { verb: "install", specs: ["tickless-other"] },
    ]);
    expect(steps({ name: ["tickless-dummy", "tickless-other"], state: "latest" })).toEqual([
      { verb: "install", specs: ["tickless-other"] },
      { verb: "upgrade", specs: ["tickless-dummy"] },
    ]);
    expect(steps({ name: ["tickless-dummy-1.0", "tickless-other", "t*"], state: "removed" })).toEqual([
      { verb: "remove", specs: ["tickless-dummy-1.0-1.noarch", "t*"] },
    ]);
    expect(steps({ autoremove: true })).toEqual([{ verb: "autoremove", specs: [] }]);
    expect(installedMatches("tickless-epoch-2.0", installed).map((p) => p.name)).toEqual(["tickless-epoch"]);
  });

  it("puts Ansible's options on dnf's command line, and reads what dnf found no match for", () => {
    const args = normalizeDnf({
      name: "x",
      installroot: "/tmp/r",
      conf_file: "/tmp/d.conf",
      disable_gpg_check: true,
      enablerepo: "a,b",
      disablerepo: ["*"],
      update_cache: true,
    });
    // the words a shell gives dnf
    const words = (cmd: string) => execFileSync("sh", ["-c", `printf '%s\\n' ${cmd}`], { encoding: "utf8" });
    expect(
      words(stepCommand(args, { verb: "install", specs: ["x"] }, true))
        .trimEnd()
        .split("\n"),
    ).toEqual(
      "dnf -y --installroot=/tmp/r -c /tmp/d.conf --nogpgcheck --disablerepo=* --enablerepo=a --enablerepo=b --refresh --setopt=strict=False --assumeno install x".split(
        " ",
      ),
    );
    expect(unmatched("No match for argument: nothere\nDependencies resolved.\n")).toEqual(["nothere"]);
  });
});

describe("dnf's arguments", () => {
  it("refuses at load time what tickless's dnf does not build, with file:line and a hint", async () => {
    const dir = await tempDir("tickless-dnf-args-");
    try {
      const book = path.join(dir, "p.yml");
      await writeFile(
        book,
        "- hosts: all\n  tasks:\n    - dnf: { name: '@core' }\n    - yum: { name: x, exclude: y }\n",
      );
      const r = spawnSync(process.execPath, ["dist/cli/main.js", "lint", book], { encoding: "utf8" });
      expect(r.status).toBe(4);
      expect(r.stdout).toContain(`${book}:3:20: argument "name" of dnf: expected a package spec`);
      expect(r.stdout).toContain(
        `${book}:4:32: argument "exclude" of yum: expected tickless's dnf does not take exclude`,
      );
      expect(r.stdout).toContain("(hint: ");
    } finally {
      await removeDir(dir);
    }
  });

  it("normalizes as Ansible: installed and removed, autoremove alone is absent, a comma string split", () => {
    expect(normalizeDnf({ name: "a, b", state: "installed" })).toMatchObject({
      name: ["a", "b"],
      state: "present",
    });
    expect(normalizeDnf({ pkg: ["a"], state: "removed" })).toMatchObject({ name: ["a"], state: "absent" });
    expect(normalizeDnf({ autoremove: true })).toMatchObject({ name: [], state: "absent", installroot: "/" });
  });
});
