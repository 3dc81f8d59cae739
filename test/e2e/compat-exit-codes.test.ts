/**
 * The run's exit code against ansible-playbook's, on the same inventory: a host nobody answers on
 * (an SSH port that refuses) is unreachable, 4 as ansible-playbook 2.14 (its RUN_UNREACHABLE_HOSTS);
 * a failed task alone is 2; both in one run is 4, unreachable winning over failed.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ansiblePlaybook, hasAnsible } from "../referee/ansible.js";
import { freePort } from "../support/net.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: reach every host
      ping:
    - name: fail where asked
      fail: { msg: asked to fail }
      when: fail_here | default(false)
`;

let dir: string;

/** An inventory of `local` hosts and one whose SSH port refuses; `failing` hosts fail the second task. */
function inventory(port: number, withUnreachable: boolean, failing: string[]): string {
  const local = ["h1", "h2"].map(
    (h) =>
      `    ${h}: { ansible_connection: local, ansible_python_interpreter: /usr/bin/python3${failing.includes(h) ? ", fail_here: true" : ""} }`,
  );
  const gone = `    gone: { ansible_host: 127.0.0.1, ansible_port: ${port}, ansible_user: nobody, ansible_ssh_common_args: "-o ConnectTimeout=5" }`;
  return ["all:", "  hosts:", ...local, ...(withUnreachable ? [gone] : [])].join("\n") + "\n";
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-exit-");
  const port = await freePort();
  await writeTree(dir, {
    "p.yml": PLAYBOOK,
    "unreachable.yml": inventory(port, true, []),
    "failed.yml": inventory(port, false, ["h2"]),
    "both.yml": inventory(port, true, ["h2"]),
  });
});

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("exit codes against ansible-playbook", () => {
  test.each([
    ["unreachable.yml", 4],
    ["failed.yml", 2],
    ["both.yml", 4],
  ])(
    "%s: the same exit code as ansible-playbook (%i)",
    async (inv, expected) => {
      const theirs = await ansiblePlaybook(["-i", inv, "p.yml"], dir);
      expect(theirs.rc).toBe(expected);
      const ours = await run({ playbook: path.join(dir, "p.yml"), inventory: path.join(dir, inv) });
      expect(ours.summary.exitCode).toBe(theirs.rc);
    },
    120_000,
  );
});
