/**
 * apt and package against ansible-playbook, on real packages in a throwaway machine: two small .deb
 * packages built here with dpkg-deb (two versions of one, with a conffile so that a removal leaves
 * it in `config-files`), a flat apt repository made with dpkg-scanpackages, and a .deb file for
 * `deb:`. Each tool runs the same playbook in its own sandbox (scripts/compat/sandbox.mjs: new
 * mount, PID, UTS and network namespaces, in-memory overlays over /etc, /usr, /var …) whose apt
 * sources name only that repository; nothing is installed on this machine. After every package task
 * the playbook records `dpkg-query -W` of the test packages, so the comparison covers what each tool
 * left on the host as well as the status and fields of each result.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helper of the compat runner, no types
import { runSandboxed } from "../../scripts/compat/sandbox.mjs";
import { hasAnsible, refereeEnv } from "../referee/ansible.js";
import { lines, removeDir, tempDir } from "../support/fs.js";
import { type ResultEntry, refereeInventory, resultKeys } from "./referee-runs.js";

const ROOT = path.resolve(".");
const CLI = path.join(ROOT, "dist", "cli", "main.js");
const canRun =
  hasAnsible &&
  existsSync(CLI) &&
  process.getuid?.() === 0 &&
  spawnSync("dpkg-scanpackages", ["--version"]).status === 0 &&
  spawnSync("unshare", ["--mount", "--pid", "--fork", "true"]).status === 0;

/** A package task, then what dpkg says of the test packages. */
const STEPS: [string, string][] = [
  ["update the cache", "apt: update_cache=yes"],
  ["update it in check mode", "apt: update_cache=yes\n  check_mode: true"],
  ["install a pinned version", "apt: name=tickless-dummy=1.0"],
  ["install it again", "apt: { name: tickless-dummy=1.0 }"],
  ["install in check mode", "apt: { pkg: tickless-other }\n  check_mode: true"],
  ["upgrade to the latest", "apt: { name: tickless-dummy, state: latest }"],
  ["latest again", "apt: { name: tickless-dummy, state: latest }"],
  ["present at a newer version", "apt: { name: tickless-dummy, state: present }"],
  ["remove", "apt: { name: tickless-dummy, state: absent }"],
  ["remove again", "apt: { name: tickless-dummy, state: absent }"],
  ["purge what the removal left", "apt: { name: tickless-dummy, state: absent, purge: true }"],
  ["purge again", "apt: { name: tickless-dummy, state: absent, purge: true }"],
  ["a package apt does not know", "apt: { name: tickless-nothere }\n  ignore_errors: true"],
  ["a .deb file", "apt: { deb: '{{ deb_file }}' }"],
  ["the .deb again", "apt: { deb: '{{ deb_file }}' }"],
  ["package with use auto", "package: { name: tickless-other, state: present }"],
  ["remove by wildcard", "apt: { name: 'tickless-oth*', state: absent }"],
  ["install with a cache update", "apt: { name: tickless-other, update_cache: true }"],
  ["a cache still valid", "apt: { update_cache: true, cache_valid_time: 3600 }"],
];

const DPKG_STATE =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format, not a template
  "dpkg-query -W -f='${binary:Package} ${db:Status-Status} ${Version}\\n' tickless-dummy tickless-other tickless-local";

function playbook(): string {
  const tasks = STEPS.flatMap(([name, task], i) => [
    `- name: ${name}`,
    `  ${task}`,
    `- name: dpkg after ${i}`,
    `  shell: ${JSON.stringify(`${DPKG_STATE} 2>/dev/null; true`)}`,
    "  changed_when: false",
    "  check_mode: false",
  ]);
  const indented = tasks.flatMap((t) => t.split("\n")).map((t) => `    ${t}`);
  return lines("- hosts: h1", "  gather_facts: true", "  tasks:", ...indented);
}

/** A package directory for dpkg-deb: one file under /usr/share and a conffile under /etc. */
async function buildDeb(dir: string, name: string, version: string, out: string): Promise<void> {
  const tree = path.join(dir, "build", `${name}_${version}`);
  await mkdir(path.join(tree, "DEBIAN"), { recursive: true });
  await mkdir(path.join(tree, "usr", "share", name), { recursive: true });
  await mkdir(path.join(tree, "etc"), { recursive: true });
  await writeFile(
    path.join(tree, "DEBIAN", "control"),
    lines(
      `Package: ${name}`,
      `Version: ${version}`,
      "Architecture: all",
      "Maintainer: tickless tests <tests@example.org>",
      "Description: a package for tickless's apt tests",
    ),
  );
  await writeFile(path.join(tree, "DEBIAN", "conffiles"), `/etc/${name}.conf\n`);
  await writeFile(path.join(tree, "usr", "share", name, "VERSION"), `${version}\n`);
  await writeFile(path.join(tree, "etc", `${name}.conf`), `version=${version}\n`);
  execFileSync("dpkg-deb", ["--root-owner-group", "--build", tree, out], { stdio: "ignore" });
}

type Entry = ResultEntry;

function ansibleEntries(stdout: string): Entry[] {
  const report = JSON.parse(stdout.slice(stdout.indexOf("{")));
  return report.plays[0].tasks.map((t: any) => ({ name: t.task.name, ...pick(t.hosts.h1) }));
}

function ticklessEntries(stdout: string): Entry[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === "host_result")
    .map((e) => ({ name: e.task, status: e.status, result: e.result }));
}

function pick(r: Record<string, any>) {
  return { status: r.status as string, result: r };
}

/** The fields both tools' results are compared on (noise and tickless-only bookkeeping left out). */
const IGNORED = new Set([
  "_ansible_no_log",
  "status",
  "invocation",
  "diff",
  "failed",
  "skipped",
  "changes",
  "ignored",
  "stdout_lines",
  "stderr_lines",
  "start",
  "end",
  "delta",
  "cmd",
  "ansible_facts",
  "failed_when_result",
]);

const keysOf = (r: Record<string, unknown>) => resultKeys(r, IGNORED);

let dir: string;
let theirs: Entry[];
let ours: Entry[];

beforeAll(async () => {
  if (!canRun) return;
  dir = await tempDir("tickless-apt-");
  // apt fetches as its own unprivileged user (_apt): the repository must be readable by others
  await chmod(dir, 0o755);
  const repo = path.join(dir, "repo");
  await mkdir(repo);
  await buildDeb(dir, "tickless-dummy", "1.0", repo);
  await buildDeb(dir, "tickless-dummy", "1.1", repo);
  await buildDeb(dir, "tickless-other", "2.0", repo);
  await buildDeb(dir, "tickless-local", "1.0", path.join(dir, "local.deb"));
  const index = execFileSync("dpkg-scanpackages", ["--multiversion", "."], {
    cwd: repo,
    stdio: ["ignore", "pipe", "ignore"],
  });
  await writeFile(path.join(repo, "Packages"), index);
  await writeFile(path.join(dir, "p.yml"), playbook());
  await writeFile(path.join(dir, "inventory.yml"), refereeInventory(["h1"]));
  // inside the sandbox only: apt's sources are the test repository, its lists start empty
  await writeFile(
    path.join(dir, "sources.sh"),
    lines(
      "rm -f /etc/apt/sources.list.d/*",
      `echo 'deb [trusted=yes] file:${repo} ./' > /etc/apt/sources.list`,
      "rm -rf /var/lib/apt/lists/*",
      // an hour-old cache: both tools compare the cache's time in whole seconds before and after
      // an update (as Ansible's apt module does), so a cache emptied in the second the update ran
      // in would read as not updated
      "touch -d '1 hour ago' /var/lib/apt/lists",
      'exec "$@"',
    ),
  );
  const vars = ["-e", `deb_file=${path.join(dir, "local.deb")}`];
  const inv = path.join(dir, "inventory.yml");
  const book = path.join(dir, "p.yml");
  const sandboxed = (argv: string[], env: NodeJS.ProcessEnv) =>
    runSandboxed(["/bin/sh", path.join(dir, "sources.sh"), ...argv], {
      workDir: dir,
      keep: [ROOT],
      cwd: dir,
      env,
      timeoutMs: 150_000,
    });
  const [a, t] = await Promise.all([
    sandboxed(["/usr/bin/ansible-playbook", "-i", inv, book, ...vars], refereeEnv()),
    sandboxed([process.execPath, CLI, "run", book, "-i", inv, "--json", ...vars], process.env),
  ]);
  if (a.stdout.indexOf("{") < 0) throw new Error(`ansible-playbook gave no report (rc ${a.rc}): ${a.stderr}`);
  theirs = ansibleEntries(a.stdout);
  ours = ticklessEntries(t.stdout);
  if (ours.length === 0) throw new Error(`tickless gave no results (rc ${t.rc}): ${t.stderr}`);
}, 200_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!canRun)("apt and package in a sandbox, against ansible-playbook", () => {
  it("gives every task the same status and the same result fields", () => {
    expect(ours.map((e) => `${e.name}: ${e.status}`)).toEqual(theirs.map((e) => `${e.name}: ${e.status}`));
    // from the first task on: fact gathering's result is not the subject here
    for (const [i, mine] of ours.entries()) {
      if (i === 0) continue;
      expect({ task: mine.name, keys: keysOf(mine.result) }).toEqual({
        task: theirs[i].name,
        keys: keysOf(theirs[i].result),
      });
      for (const field of ["changed", "cache_updated", "msg"])
        expect({ task: mine.name, field, value: mine.result[field] }).toEqual({
          task: mine.name,
          field,
          value: theirs[i].result[field],
        });
    }
  });

  it("leaves the packages in the same dpkg state after every task", () => {
    const states = (entries: Entry[]) =>
      entries.filter((e) => e.name.startsWith("dpkg after")).map((e) => `${e.name}: ${e.result.stdout}`);
    expect(states(ours)).toEqual(states(theirs));
    // what the steps are for, spelt out: check mode installed nothing, latest upgraded, purge purged
    const after = (step: string) => states(ours)[STEPS.findIndex(([n]) => n === step)];
    expect(after("install in check mode")).toMatch(/^dpkg after 4: tickless-dummy installed 1\.0$/);
    expect(after("upgrade to the latest")).toContain("tickless-dummy installed 1.1");
    expect(after("remove")).toContain("tickless-dummy config-files 1.1");
    expect(after("purge what the removal left")).not.toContain("tickless-dummy");
    expect(after("a .deb file")).toContain("tickless-local installed 1.0");
    expect(after("package with use auto")).toContain("tickless-other installed 2.0");
    expect(after("remove by wildcard")).toContain("tickless-other config-files 2.0");
  });

  it("fails on an unknown package with Ansible's words, and reports the cache as Ansible does", () => {
    const missing = ours.find((e) => e.name === "a package apt does not know");
    expect(missing?.result.msg).toBe("No package matching 'tickless-nothere' is available");
    const update = ours.find((e) => e.name === "update the cache")?.result;
    expect(update).toMatchObject({ changed: true, cache_updated: true });
    // check mode updates nothing and says it did, with the cache's time as it was
    const checked = ours.find((e) => e.name === "update it in check mode")?.result;
    expect(checked).toMatchObject({
      changed: true,
      cache_updated: true,
      cache_update_time: update?.cache_update_time,
    });
    const again = ours.find((e) => e.name === "install with a cache update")?.result;
    expect(again).toMatchObject({ changed: true });
    expect(again?.cache_update_time).toBeGreaterThanOrEqual(update?.cache_update_time);
    const valid = ours.find((e) => e.name === "a cache still valid")?.result;
    expect(valid).toMatchObject({
      changed: false,
      cache_updated: false,
      cache_update_time: again?.cache_update_time,
    });
  });

  it("installed nothing on this machine", () => {
    const r = spawnSync("dpkg-query", ["-W", "tickless-dummy", "tickless-other", "tickless-local"]);
    expect(r.status).not.toBe(0);
    expect(String(r.stdout)).toBe("");
  });
});
