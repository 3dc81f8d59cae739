import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, testdir } from "./helpers.js";

let dir: Awaited<ReturnType<typeof testdir>>;
const SECRET = "s3cr3t-Pa55word";

const site = (out: string) => `- name: Local files
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write a file
      copy:
        dest: ${out}/app.conf
        content: "port={{ port }}\\n"
      tags: [config]
    - name: Report
      debug: { msg: "port is {{ port }}" }
      tags: [report]
`;

const failing = `- name: Fails
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Break
      command: "false"
    - name: Never reached
      debug: { msg: no }
`;

const secret = (out: string) => `- name: Secrets
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write the password
      copy:
        dest: ${out}/secret.txt
        content: "{{ password }}"
      no_log: true
    - name: Echo it
      command: "echo {{ password }}"
      no_log: true
`;

const slow = `- name: Slow
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Sleep
      command: sleep 1
`;

beforeAll(async () => {
  dir = await testdir({ "vars.yml": "port: 6380\n", "failing.yml": failing, "slow.yml": slow });
  await writeFile(dir.file("site.yml"), site(dir.path));
  await writeFile(dir.file("secret.yml"), secret(dir.path));
});
afterAll(() => dir.cleanup());

describe("tickless run (local connection)", () => {
  it("check mode with --diff changes nothing and shows the diff", async () => {
    const r = await cli(["run", dir.file("site.yml"), "-C", "-D", "-e", "port=6379"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`--- before: ${dir.path}/app.conf\n+++ after: ${dir.path}/app.conf\n`);
    expect(r.stdout).toContain("+port=6379\nchanged: [localhost]\n");
    await expect(readFile(dir.file("app.conf"), "utf8")).rejects.toThrow();
  });

  it("applies with extra vars from a file, then is idempotent", async () => {
    const first = await cli(["run", dir.file("site.yml"), "-e", `@${dir.file("vars.yml")}`]);
    expect(first.code).toBe(0);
    expect(await readFile(dir.file("app.conf"), "utf8")).toBe("port=6380\n");
    expect(first.stdout).toMatch(/localhost +: ok=2 +changed=1 /);
    const again = await cli(["run", dir.file("site.yml"), "-e", '{"port": 6380}']);
    expect(again.stdout).toMatch(/localhost +: ok=2 +changed=0 /);
  });

  it("honours --tags, --skip-tags and --start-at-task", async () => {
    const tags = await cli(["run", dir.file("site.yml"), "-e", "port=1", "-t", "report"]);
    expect(tags.stdout).not.toContain("TASK [Write a file]");
    expect(tags.stdout).toContain("TASK [Report]");
    const skip = await cli(["run", dir.file("site.yml"), "-e", "port=1", "--skip-tags", "config"]);
    expect(skip.stdout).not.toContain("TASK [Write a file]");
    const start = await cli(["run", dir.file("site.yml"), "-e", "port=1", "--start-at-task", "Report"]);
    expect(start.stdout).not.toContain("TASK [Write a file]");
    expect(start.stdout).toContain("TASK [Report]");
  });

  it("--json prints only JSON lines", async () => {
    const r = await cli(["run", dir.file("site.yml"), "-C", "-e", "port=7", "--json"]);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events[0].type).toBe("playbook_start");
    expect(events.at(-1)).toEqual({ type: "playbook_end", exitCode: 0 });
    expect(events.filter((e) => e.type === "task_start").map((e) => e.task)).toEqual([
      "Write a file",
      "Report",
    ]);
  });

  it("a failed host exits 2; --junit writes the report", async () => {
    const junit = dir.file("out/junit.xml");
    const r = await cli(["run", dir.file("failing.yml"), "--junit", junit]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("fatal: [localhost]: FAILED! => ");
    expect(r.stdout).not.toContain("TASK [Never reached]");
    const xml = await readFile(junit, "utf8");
    expect(xml).toContain('<testcase classname="Fails" name="[localhost] Break"');
    expect(xml).toContain("<failure ");
  });

  it("--reporter listr shows task lines with counts", async () => {
    const r = await cli(["run", dir.file("site.yml"), "-C", "-e", "port=9", "--reporter", "listr"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("TASK [Write a file]  ok=0 changed=1 failed=0 skipped=0  1/1 hosts");
    expect(r.stdout).toContain("PLAY RECAP");
  });

  it("never prints a no_log value, in any reporter", async () => {
    const junit = dir.file("secret.xml");
    const args = ["run", dir.file("secret.yml"), "-e", `password=${SECRET}`, "-D", "-vvv"];
    const plain = await cli(args);
    expect(plain.code).toBe(0);
    expect(await readFile(dir.file("secret.txt"), "utf8")).toBe(SECRET);
    const json = await cli([...args, "--json", "--junit", junit]);
    const listr = await cli([...args, "--reporter", "listr"]);
    for (const out of [
      plain.stdout,
      plain.stderr,
      json.stdout,
      json.stderr,
      listr.stdout,
      await readFile(junit, "utf8"),
    ]) {
      expect(out).not.toContain(SECRET);
    }
    expect(plain.stdout).toContain("TASK [Echo it]");
    expect(plain.stdout).toContain("censored");
  });

  it("a templated become password is rendered and masked everywhere: values, mapping keys, expression errors", async () => {
    const inventory = `all:
  hosts:
    localhost:
      ansible_connection: local
      vault_pw: ${SECRET}
      tickless_become_password: "{{ vault_pw }}"
      api_token: ${SECRET}-api
`;
    const playbook = `- hosts: all
  gather_facts: false
  tasks:
    - name: show the variable
      debug: { var: tickless_become_password }
    - name: a secret as a key
      debug: { var: "'{{ tickless_become_password }}'" }
    - name: test a token
      debug: { msg: never }
      when: api_token is failed
`;
    await writeFile(dir.file("become-inv.yml"), inventory);
    await writeFile(dir.file("become.yml"), playbook);
    for (const extra of [[], ["--json"]]) {
      const r = await cli(["run", dir.file("become.yml"), "-i", dir.file("become-inv.yml"), ...extra]);
      expect(r.code).toBe(2);
      expect(r.stdout).toContain("********");
      expect(r.stdout).not.toContain(SECRET);
      expect(r.stdout).toContain("test needs a registered result, not a string");
    }
  });

  it("aborting the run exits 99", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await cli(["run", dir.file("slow.yml")], { signal: ac.signal });
    expect(r.code).toBe(99);
  });

  it("prints a parse error as one located paragraph without a stack", async () => {
    await writeFile(
      dir.file("bad.yml"),
      "- name: Bad\n  hosts: localhost\n  tasks:\n    - nosuchmodule: {}\n",
    );
    const r = await cli(["run", dir.file("bad.yml")]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`^${dir.file("bad.yml")}:4:\\d+: `));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
