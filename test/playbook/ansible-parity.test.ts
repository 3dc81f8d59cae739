/** What ansible-playbook --syntax-check accepts, tickless accepts; what it rejects, tickless rejects. */
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { validatePlaybook } from "../../src/playbook/index.js";
import { testRegistry } from "./helpers.js";

const FIXTURES = join(import.meta.dirname, "fixtures");

/** Exit code of `ansible-playbook --syntax-check`, with its state kept in a temp dir. */
async function ansibleSyntaxCheck(file: string): Promise<number> {
  const home = await mkdtemp(join(tmpdir(), "tickless-ansible-"));
  return new Promise((resolve) => {
    execFile(
      "ansible-playbook",
      ["-i", "localhost,", "--syntax-check", file],
      { env: { ...process.env, ANSIBLE_HOME: home, ANSIBLE_LOCAL_TEMP: join(home, "tmp") } },
      (err) => resolve(err ? Number((err as { code?: number }).code ?? 1) : 0),
    );
  });
}

describe("parity with ansible-playbook --syntax-check", () => {
  test("an Ansible-compatible playbook is accepted by both", async () => {
    const file = join(FIXTURES, "good", "ansible-compatible.yml");
    expect(await ansibleSyntaxCheck(file)).toBe(0);
    const result = await validatePlaybook(file, { registry: testRegistry() });
    expect(result.errors).toEqual([]);
    expect(result.playbook?.plays[0].tasks).toHaveLength(5);
  });

  test.each([
    "syntax-tab.yml",
    "syntax-unquoted-template.yml",
    "task-unknown-key-whn.yml",
    "unknown-module.yml",
    "two-modules.yml",
    "play-missing-hosts.yml",
    "import-missing.yml",
  ])("%s is rejected by both", async (fixture) => {
    const file = join(FIXTURES, "bad", fixture);
    expect(await ansibleSyntaxCheck(file)).not.toBe(0);
    const result = await validatePlaybook(file, { registry: testRegistry() });
    expect(result.errors.length).toBeGreaterThan(0);
  });
});
