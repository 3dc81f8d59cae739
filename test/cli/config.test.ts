/**
 * `tickless config`: the ansible.cfg found where Ansible finds it, each setting tickless reads with
 * its value and origin (file:line, or the ANSIBLE_* variable that beats the file), the keys it
 * ignores, as text and as JSON; a value of the wrong kind is a located error.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeDir, tempDir } from "../e2e/helpers.js";
import { cli } from "./helpers.js";

let dir: string;
let cfg: string;
beforeAll(async () => {
  dir = await tempDir("tickless-config-");
  await mkdir(join(dir, "roles"));
  cfg = join(dir, "ansible.cfg");
  await writeFile(
    cfg,
    "[defaults]\nforks = 7\nroles_path = ./roles\nstdout_callback = yaml\n\n[privilege_escalation]\nbecome = True\n",
  );
});
afterAll(async () => removeDir(dir));

describe("tickless config", () => {
  it("prints each setting with its value and where it came from, the environment over the file", async () => {
    const r = await cli(["config"], {
      env: { ANSIBLE_CONFIG: cfg, ANSIBLE_TIMEOUT: "33", ANSIBLE_FORKS: "9" },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `ansible.cfg: ${cfg}`,
        "  forks = 9  (env ANSIBLE_FORKS)",
        `  roles_path = ./roles → ${join(dir, "roles")}  (${cfg}:3)`,
        `  become = True → true  (${cfg}:7)`,
        "  timeout = 33  (env ANSIBLE_TIMEOUT)",
        `[WARNING]: ${cfg}:4: [defaults] stdout_callback is ignored: tickless has no equivalent (see docs/compat.md, "ansible.cfg")`,
        "",
      ].join("\n"),
    );
  });

  it("--json: the file, the settings with value and origin, the ignored keys", async () => {
    const r = await cli(["config", "--json"], { env: { ANSIBLE_CONFIG: cfg } });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.file).toBe(cfg);
    expect(doc.settings).toEqual([
      { setting: "forks", value: 7, origin: `${cfg}:2`, written: "forks = 7" },
      {
        setting: "rolesPath",
        value: [join(dir, "roles")],
        origin: `${cfg}:3`,
        written: "roles_path = ./roles",
      },
      { setting: "become", value: true, origin: `${cfg}:7`, written: "become = True" },
    ]);
    expect(doc.ignored).toEqual([{ file: cfg, line: 4, section: "defaults", key: "stdout_callback" }]);
  });

  it("a value of the wrong kind: one located line and a non-zero exit", async () => {
    const bad = join(dir, "bad.cfg");
    await writeFile(bad, "[defaults]\nforks = many\n");
    const r = await cli(["config"], { env: { ANSIBLE_CONFIG: bad } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe(
      `${bad}:2: forks: expected a whole number of 1 or more, got "many" (hint: fix the value in ansible.cfg (or the environment variable))\n`,
    );
  });
});
