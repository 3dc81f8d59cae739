/**
 * dnf, yum and package against ansible-playbook, on real RPM packages: three tiny noarch packages
 * built here with rpmbuild (two versions of one), a repository made with createrepo_c, and a dnf
 * configuration that names only that repository (no reposdir, so nothing reaches the network).
 * Each tool runs the same playbook into its own empty `installroot`, so this machine's own package
 * state is never touched; after every package task the playbook records `rpm --root ROOT -qa`, so
 * the comparison covers what each tool left in its root as well as the status and fields of each
 * result.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ansiblePlaybook, hasAnsible } from "../referee/ansible.js";
import { lines } from "../support/fs.js";
import { removeDir, run, tempDir } from "./helpers.js";
import { type ResultEntry, refereeInventory, resultKeys } from "./referee-runs.js";

const hasDnf = ["dnf", "rpmbuild", "createrepo_c"].every(
  (c) => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0,
);
const hasPyDnf = spawnSync("/usr/bin/python3", ["-c", "import dnf"]).status === 0;
const canRun = hasAnsible && hasDnf && hasPyDnf && process.getuid?.() === 0;
const why = !hasDnf
  ? "dnf, rpmbuild or createrepo_c is missing (bash scripts/test-setup.sh installs them)"
  : !hasPyDnf
    ? "python3-dnf is missing: the referee's dnf module needs it"
    : "needs ansible-playbook and root";

const OPTS = 'installroot: "{{ root }}", conf_file: "{{ conf }}", disable_gpg_check: true';

/** A package task, then what rpm says is in the root. */
const STEPS: [string, string][] = [
  ["install", `dnf: { name: tickless-other, ${OPTS} }`],
  ["installed again", `dnf: { name: tickless-other, state: installed, ${OPTS} }`],
  ["install in check mode", `dnf: { name: tickless-extra, ${OPTS} }\n  check_mode: true`],
  ["a version pin", `dnf: { name: tickless-dummy-1.0, ${OPTS} }`],
  ["present with a newer one available", `dnf: { name: tickless-dummy, state: present, ${OPTS} }`],
  ["latest upgrades", `dnf: { name: tickless-dummy, state: latest, ${OPTS} }`],
  ["latest again", `dnf: { name: tickless-dummy, state: latest, ${OPTS} }`],
  ["absent", `dnf: { name: tickless-dummy, state: absent, ${OPTS} }`],
  ["absent again", `dnf: { name: tickless-dummy, state: removed, ${OPTS} }`],
  ["a missing package", `dnf: { name: "tickless-nothere,tickless-dummy", ${OPTS} }\n  ignore_errors: true`],
  ["a wildcard", `dnf: { name: "tickless-ex*", ${OPTS} }`],
  [
    "a wildcard absent in check mode",
    `dnf: { name: "tickless-ex*", state: absent, ${OPTS} }\n  check_mode: true`,
  ],
  ["a wildcard matching nothing", `dnf: { name: "tickless-zz*", state: absent, ${OPTS} }`],
  ["yum runs dnf", `yum: { name: [tickless-dummy], use_backend: dnf, ${OPTS} }`],
  ["package runs dnf", `package: { name: tickless-dummy, use: dnf, state: absent, ${OPTS} }`],
  ["a repository the configuration disables", `dnf: { name: tickless-late, ${OPTS} }\n  ignore_errors: true`],
  [
    "enablerepo, with a cache update",
    `dnf: { name: tickless-late, enablerepo: tickless-off, update_cache: true, ${OPTS} }`,
  ],
  ["disablerepo", `dnf: { name: tickless-dummy, disablerepo: "tickless-*", ${OPTS} }\n  ignore_errors: true`],
  ["the cache alone", `dnf: { update_cache: true, ${OPTS} }`],
  ["autoremove alone", `dnf: { autoremove: true, ${OPTS} }`],
];

function playbook(): string {
  const tasks = STEPS.flatMap(([name, task], i) => [
    `- name: ${name}`,
    `  ${task}`,
    `- name: rpm after ${i}`,
    '  command: rpm --root {{ root }} -qa --qf "%{NAME}-%{VERSION}\\n"',
    "  changed_when: false",
    "  check_mode: false",
  ]);
  const indented = tasks.flatMap((t) => t.split("\n")).map((t) => `    ${t}`);
  return lines("- hosts: h1", "  gather_facts: false", "  tasks:", ...indented);
}

async function buildRpm(dir: string, name: string, version: string): Promise<void> {
  const spec = path.join(dir, `${name}-${version}.spec`);
  await writeFile(
    spec,
    lines(
      `Name: ${name}`,
      `Version: ${version}`,
      "Release: 1",
      "Summary: a package for tickless's dnf tests",
      "License: MIT",
      "BuildArch: noarch",
      "%description",
      "a package for tickless's dnf tests",
      "%install",
      `mkdir -p %{buildroot}/usr/share/${name}`,
      `echo ${version} > %{buildroot}/usr/share/${name}/VERSION`,
      "%files",
      `/usr/share/${name}/VERSION`,
    ),
  );
  execFileSync("rpmbuild", ["-bb", "--define", `_topdir ${path.join(dir, "top")}`, spec], {
    stdio: "ignore",
  });
}

type Entry = ResultEntry;

/** Callback noise and tickless-only bookkeeping, left out of the comparison. */
const IGNORED = new Set([
  "_ansible_no_log",
  "status",
  "invocation",
  "failed",
  "skipped",
  "changes",
  "ignored",
]);

const keysOf = (r: Record<string, unknown>) => resultKeys(r, IGNORED);

let dir: string;
let theirs: Entry[];
let ours: Entry[];

beforeAll(async () => {
  if (!canRun) return;
  dir = await tempDir("tickless-dnf-");
  const repo = path.join(dir, "repo");
  await mkdir(repo);
  for (const [n, v] of [
    ["tickless-dummy", "1.0"],
    ["tickless-dummy", "1.1"],
    ["tickless-other", "2.0"],
    ["tickless-extra", "1.0"],
    ["tickless-late", "1.0"],
  ])
    await buildRpm(dir, n, v);
  // tickless-late alone in a second repository, which the configuration disables
  const off = path.join(dir, "repo-off");
  await mkdir(off);
  const built = path.join(dir, "top/RPMS/noarch");
  execFileSync("sh", ["-c", `cp ${built}/*.rpm ${repo}/ && mv ${repo}/tickless-late-* ${off}/`]);
  execFileSync("createrepo_c", ["-q", repo]);
  execFileSync("createrepo_c", ["-q", off]);
  const conf = path.join(dir, "dnf.conf");
  // reposdir empty: the test repository is the only one dnf reads
  await writeFile(
    conf,
    lines(
      "[main]",
      "reposdir=",
      "gpgcheck=0",
      "[tickless-test]",
      "name=tickless-test",
      `baseurl=file://${repo}`,
      "[tickless-off]",
      "name=tickless-off",
      `baseurl=file://${off}`,
      "enabled=0",
    ),
  );
  await writeFile(path.join(dir, "p.yml"), playbook());
  await writeFile(path.join(dir, "inventory.yml"), refereeInventory(["h1"]));
  for (const side of ["ansible", "tickless"]) await mkdir(path.join(dir, side));
  const inv = path.join(dir, "inventory.yml");
  const book = path.join(dir, "p.yml");
  const a = await ansiblePlaybook(
    ["-i", inv, book, "-e", `root=${path.join(dir, "ansible")}`, "-e", `conf=${conf}`],
    dir,
  );
  theirs = a.report.plays[0].tasks.map((t) => ({
    name: t.task.name,
    status: t.hosts.h1.status as string,
    result: t.hosts.h1 as Record<string, any>,
  }));
  const t = await run({
    playbook: book,
    inventory: inv,
    extraVars: { root: path.join(dir, "tickless"), conf },
  });
  ours = t.results.map((e) => ({ name: e.task, status: e.status, result: e.result as Record<string, any> }));
}, 300_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!canRun)(`dnf, yum and package in an installroot, against ansible-playbook (${why})`, () => {
  it("gives every task the same status, keys, changed, msg and results", () => {
    expect(ours.map((e) => `${e.name}: ${e.status}`)).toEqual(theirs.map((e) => `${e.name}: ${e.status}`));
    for (const [i, mine] of ours.entries()) {
      if (mine.name.startsWith("rpm after")) continue;
      expect({ task: mine.name, keys: keysOf(mine.result) }).toEqual({
        task: theirs[i].name,
        keys: keysOf(theirs[i].result),
      });
      for (const field of ["changed", "msg", "rc", "results", "failures", "warnings"])
        expect({ task: mine.name, field, value: mine.result[field] }).toEqual({
          task: mine.name,
          field,
          value: theirs[i].result[field],
        });
    }
  });

  it("leaves the same packages in each root after every task", () => {
    const states = (entries: Entry[]) =>
      entries.filter((e) => e.name.startsWith("rpm after")).map((e) => `${e.name}: ${e.result.stdout}`);
    expect(states(ours)).toEqual(states(theirs));
    const after = (step: string) => states(ours)[STEPS.findIndex(([n]) => n === step)];
    expect(after("install")).toBe("rpm after 0: tickless-other-2.0");
    expect(after("install in check mode")).not.toContain("tickless-extra");
    expect(after("a version pin")).toContain("tickless-dummy-1.0");
    expect(after("latest upgrades")).toContain("tickless-dummy-1.1");
    expect(after("absent")).not.toContain("tickless-dummy");
    expect(after("a missing package")).not.toContain("tickless-dummy");
    expect(after("a wildcard")).toContain("tickless-extra-1.0");
    expect(after("a repository the configuration disables")).not.toContain("tickless-late");
    expect(after("enablerepo, with a cache update")).toContain("tickless-late-1.0");
    expect(after("disablerepo")).not.toContain("tickless-dummy");
  });

  it("words a missing package as Ansible does, and the upgrade's removal of the old version", () => {
    const by = (n: string) => ours.find((e) => e.name === n)?.result;
    expect(by("a missing package")).toMatchObject({
      msg: "Failed to install some of the specified packages",
      failures: ["No package tickless-nothere available."],
      rc: 1,
    });
    expect(by("disablerepo")?.failures).toEqual(["No package tickless-dummy available."]);
    expect(by("latest upgrades")?.results).toEqual([
      "Installed: tickless-dummy-1.1-1.noarch",
      "Removed: tickless-dummy-1.0-1.noarch",
    ]);
    expect(by("install in check mode")?.msg).toBe(
      "Check mode: No changes made, but would have if not in check mode",
    );
  });

  it("installed nothing on this machine", () => {
    const r = spawnSync("sh", ["-c", "rpm -qa 2>/dev/null | grep tickless-"]);
    expect(String(r.stdout)).toBe("");
  });
});
