/** The same inventory read by real Ansible (ansible-core) and by tickless must give the same answers. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { inventoryVars, loadInventory, magicVars, selectHosts } from "../../src/inventory/index.js";
import { lines, testdir } from "../support/fs.js";
import { CASES, PATTERN_INVENTORY } from "./pattern-cases.js";

const run = promisify(execFile);
const ENV = { ...process.env, ANSIBLE_LOCALHOST_WARNING: "False", ANSIBLE_NOCOLOR: "1" };

/** Runs `ansible-playbook --list-hosts` once over plays.yml (one play per pattern); returns each play's hosts. */
async function ansibleSelect(dir: string): Promise<string[][]> {
  const { stdout } = await run(
    "ansible-playbook",
    ["-i", join(dir, "hosts.yml"), join(dir, "plays.yml"), "--list-hosts"],
    { env: ENV, cwd: dir },
  ).catch((e) => {
    throw new Error(`ansible-playbook failed: ${e.stderr}`);
  });
  return stdout
    .split(/\n\s*play #\d+ /)
    .slice(1)
    .map((block) => {
      const after = block.split(/hosts \(\d+\):\n/)[1] ?? "";
      return after
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
    });
}

describe("parity with ansible-core", () => {
  it("selects the same hosts for every pattern of the table", async () => {
    // ansible-playbook stops on a subscript past the end ("web[7]"); tickless selects nothing.
    const patterns = [...CASES.map(([p]) => p).filter((p) => p !== "web[7]"), "localhost:web"];
    const plays = patterns
      .map((p) => `- hosts: ${JSON.stringify(p)}\n  gather_facts: false\n  tasks: []\n`)
      .join("");
    const dir = await testdir({ "hosts.yml": PATTERN_INVENTORY, "plays.yml": plays });
    const theirs = await ansibleSelect(dir);
    expect(theirs).toHaveLength(patterns.length);
    const inv = await loadInventory(join(dir, "hosts.yml"));
    patterns.forEach((pattern, i) => {
      expect([pattern, selectHosts(inv, pattern).sort()]).toEqual([pattern, theirs[i].sort()]);
    });
  }, 60_000);

  it("gives each host the same inventory variables and group_names", async () => {
    const dir = await testdir({
      "hosts.yml": lines(
        "all:",
        "  vars: {v: all, only_all: 1}",
        "  hosts:",
        "    solo: {port_like: 22}",
        "  children:",
        "    a_low:",
        "      vars: {v: a_low, ansible_group_priority: 5}",
        "      hosts: {h1: }",
        "    b_high:",
        "      vars: {v: b_high}",
        "      hosts: {h1: }",
        "    parent:",
        "      vars: {v: parent, p: parent}",
        "      children:",
        "        child:",
        "          vars: {v: child}",
        "          hosts:",
        "            h2: {own: 1}",
        "            h3: {v: host}",
        "    z_shallow:",
        "      vars: {v: z_shallow, z: 1}",
        "      hosts: {h2: }",
      ),
      "group_vars/all.yml": "from_file: all\n",
      "group_vars/child/a.yml": "v: child_file\nchild_file: 1\n",
      "host_vars/h3.yml": "v: host_file\n",
    });
    const { stdout } = await run("ansible-inventory", ["-i", join(dir, "hosts.yml"), "--list"], { env: ENV });
    const theirs = JSON.parse(stdout)._meta.hostvars as Record<string, Record<string, unknown>>;
    const inv = await loadInventory(join(dir, "hosts.yml"));
    for (const host of ["solo", "h1", "h2", "h3"]) {
      expect([host, inventoryVars(inv, host)]).toEqual([host, theirs[host]]);
    }
    const groupNames = async (host: string) => {
      const out = await run(
        "ansible",
        ["-i", join(dir, "hosts.yml"), host, "-c", "local", "-m", "debug", "-a", "var=group_names"],
        { env: ENV },
      );
      return JSON.parse(out.stdout.slice(out.stdout.indexOf("{"))).group_names;
    };
    expect(magicVars(inv, "h2", {}).group_names).toEqual(await groupNames("h2"));
    expect(magicVars(inv, "solo", {}).group_names).toEqual(await groupNames("solo"));
  }, 60_000);
});
