/**
 * A loop's items read what the previous item read or wrote (engine/read-back.ts, keepReads):
 * lineinfile over one file reads it from the host once, on a first run and on a re-run, with the
 * same file as a run that reads it for every item; where time must pass between reads (until,
 * loop_control.pause) every item reads; in check mode an item sees what the item before it planned.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { openConnection } from "../../src/connection/index.js";
import type { Connection, ConnectionSettings } from "../../src/connection/types.js";
import {
  byStatus,
  localInventory,
  plannedContent,
  predictedChanges,
  removeDir,
  run,
  tempDir,
  writeTree,
} from "../e2e/helpers.js";

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map(removeDir));
  dirs = [];
});

const SETTINGS = `        - { key: vm.swappiness, value: "1" }
        - { key: kernel.numa_balancing, value: "0" }
        - { key: vm.stat_interval, value: "10" }
        - { key: kernel.nmi_watchdog, value: "0" }`;

function playbook(loopControl = "") {
  return `- hosts: all
  gather_facts: false
  tasks:
    - name: sysctls
      lineinfile:
        path: "{{ root }}/etc/sysctl.d/90-lowlatency.conf"
        regexp: '^{{ item.key }}\\s*='
        line: "{{ item.key }} = {{ item.value }}"
        create: true
        mode: "0644"
      loop:
${SETTINGS}
${loopControl}`;
}

/** Runs the playbook on one local host, counting the host's reads of each path. */
async function counted(base: string, options: { check?: boolean } = {}) {
  const reads = new Map<string, number>();
  /** The most reads the host had to answer at once (sent together, one round trip). */
  let flying = 0;
  let mostFlying = 0;
  const connect = async (settings: ConnectionSettings): Promise<Connection> => {
    const conn = await openConnection(settings);
    const count = async <T>(p: string, read: () => Promise<T>): Promise<T> => {
      reads.set(p, (reads.get(p) ?? 0) + 1);
      mostFlying = Math.max(mostFlying, ++flying);
      try {
        return await read();
      } finally {
        flying--;
      }
    };
    const wrapped = Object.create(conn) as Connection;
    wrapped.readFile = (p, o) => count(p, () => conn.readFile(p, o));
    wrapped.stat = (p, o) => count(p, () => conn.stat(p, o));
    return wrapped;
  };
  const r = await run({
    playbook: path.join(base, "play.yml"),
    inventory: path.join(base, "inventory.yml"),
    check: options.check ?? false,
    diff: options.check ?? false,
    connect,
  });
  return { ...r, reads, mostFlying };
}

async function lab(play: string, conf: string) {
  const base = await tempDir("tickless-loop-reads-");
  dirs.push(base);
  await writeTree(path.join(base, "h1"), { "etc/sysctl.d/90-lowlatency.conf": conf });
  await writeFile(path.join(base, "inventory.yml"), localInventory(base, ["h1"]));
  await writeFile(path.join(base, "play.yml"), play);
  return { base, file: path.join(base, "h1", "etc/sysctl.d/90-lowlatency.conf") };
}

const EXPECTED =
  "# old\nvm.swappiness = 1\nkernel.numa_balancing = 0\nvm.stat_interval = 10\nkernel.nmi_watchdog = 0\n";

describe("a loop's items read what the item before read or wrote", () => {
  test("lineinfile over one file: read once, and after each write; the same file as item by item", async () => {
    const { base, file } = await lab(playbook(), "# old\nvm.swappiness = 60\n");
    const first = await counted(base);
    expect(first.summary.exitCode).toBe(0);
    expect(byStatus(first, "changed")).toEqual(["h1:sysctls"]);
    expect(await readFile(file, "utf8")).toBe(EXPECTED);
    // the first item's probe, then the probe after each of the four writes (which answers the next item)
    expect(first.reads.get(file)).toBe(5);
    const again = await counted(base);
    expect(byStatus(again, "ok")).toEqual(["h1:sysctls"]);
    expect(again.reads.get(file)).toBe(1);
    expect(await readFile(file, "utf8")).toBe(EXPECTED);

    // loop_control.pause: time passes between items, each reads the host (and the file is the same)
    const paused = await lab(playbook("      loop_control: { pause: 0.01 }"), "# old\nvm.swappiness = 60\n");
    const slow = await counted(paused.base);
    expect(slow.summary.exitCode).toBe(0);
    expect(await readFile(paused.file, "utf8")).toBe(EXPECTED);
    // each item: its probe, and the probe after its write
    expect(slow.reads.get(paused.file)).toBe(8);
  });

  test("check mode: each item sees what the item before it planned; the prediction is what the run does", async () => {
    const { base, file } = await lab(playbook(), "# old\nvm.swappiness = 1\n");
    const check = await counted(base, { check: true });
    expect(check.summary.exitCode).toBe(0);
    expect(await readFile(file, "utf8")).toBe("# old\nvm.swappiness = 1\n");
    const changed = check.events.flatMap((e) =>
      e.type === "host_result" && e.item !== undefined && e.result.changed ? [e.item] : [],
    );
    expect(changed).toHaveLength(3);
    // the last item's planned file holds the lines the two items before it planned
    expect(plannedContent(check, "h1").get(file)).toBe(EXPECTED);
    const real = await counted(base);
    expect(predictedChanges(check)).toEqual(byStatus(real, "changed").sort());
    expect(await readFile(file, "utf8")).toBe(EXPECTED);
  });

  test("a loop's probes go out together: nested directories made in order, a re-run reads them in one trip", async () => {
    const dirsPlay = `- hosts: all
  gather_facts: false
  tasks:
    - name: directories
      file: { path: "{{ root }}/{{ item }}", state: directory, mode: "0750" }
      loop: [opt/app, opt/app/conf, opt/app/conf/d, var/app, opt/app/log]
`;
    const base = await tempDir("tickless-loop-prefetch-");
    dirs.push(base);
    await writeFile(path.join(base, "inventory.yml"), localInventory(base, ["h1"]));
    await writeFile(path.join(base, "play.yml"), dirsPlay);
    await writeTree(path.join(base, "h1"), { "keep/.keep": "" });
    const paths = ["opt/app", "opt/app/conf", "opt/app/conf/d", "var/app", "opt/app/log"].map((p) =>
      path.join(base, "h1", p),
    );
    // check mode first: nothing made, and what it predicts is what the run then does
    const check = await counted(base, { check: true });
    expect(check.summary.exitCode).toBe(0);
    for (const p of paths) await expect(stat(p)).rejects.toThrow(/ENOENT/);
    const first = await counted(base);
    expect(first.summary.exitCode).toBe(0);
    expect(predictedChanges(check)).toEqual(byStatus(first, "changed").sort());
    // an item inside the directory the item before made was read again after that change
    for (const p of paths) expect(((await stat(p)).mode & 0o7777).toString(8)).toBe("750");
    const itemsChanged = first.events.filter(
      (e) => e.type === "host_result" && e.item !== undefined && e.result.changed,
    );
    expect(itemsChanged).toHaveLength(5);
    const again = await counted(base);
    expect(byStatus(again, "ok")).toEqual(["h1:directories"]);
    // every item's probe was in flight at once, and each path was read once
    expect(again.mostFlying).toBeGreaterThanOrEqual(5);
    for (const p of paths) expect(again.reads.get(p)).toBe(1);
  });
});
