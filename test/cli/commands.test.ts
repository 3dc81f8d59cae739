import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, testdir } from "./helpers.js";

const PLAYBOOK = `- name: Web tuning
  hosts: web
  tags: [tune]
  tasks:
    - name: Say hello
      debug: { msg: hello }
      tags: [hello]
    - block:
        - name: Inner
          debug: { msg: inner }
      tags: [blocky]
    - command: echo hi
- name: Local
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Only one
      debug: { msg: one }
      tags: [never, special]
`;

const INVENTORY = `all:
  children:
    web:
      hosts:
        web1: {}
        web2: {}
    db:
      hosts:
        db1: {}
`;

const BROKEN = `- name: Broken
  hosts: all
  tasks:
    - name: Unknown module
      no_such_module: { x: 1 }
    - name: Bad key
      debug: { msg: hi }
      whenn: true
`;

let dir: Awaited<ReturnType<typeof testdir>>;
beforeAll(async () => {
  dir = await testdir({
    "site.yml": PLAYBOOK,
    "inv.yml": INVENTORY,
    "broken.yml": BROKEN,
    "bad-yaml.yml": "- name: x\n  hosts: [\n",
  });
});
afterAll(() => dir.cleanup());

describe("tickless (usage)", () => {
  it("prints the version", async () => {
    const r = await cli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("exits 5 with one line and a hint on an unknown option", async () => {
    const r = await cli(["run", dir.file("site.yml"), "--frobnicate"]);
    expect(r.code).toBe(5);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown option '--frobnicate'.*hint: see "tickless run --help"/);
  });

  it("exits 5 on a missing argument, a bad value and an unknown command", async () => {
    expect((await cli(["run"])).code).toBe(5);
    expect((await cli(["run", "x.yml", "--forks", "none"])).stderr).toMatch(/whole number/);
    expect((await cli(["run", "x.yml", "--reporter", "fancy"])).code).toBe(5);
    const r = await cli(["deploy"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/unknown command 'deploy'/);
  });

  it("exits 4 with a located message when the playbook is missing", async () => {
    const r = await cli(["run", "nope/missing.yml"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(
      "nope/missing.yml: no such playbook file (hint: the path is relative to the current directory)\n",
    );
  });
});

describe("tickless (errors)", () => {
  it("exits 5 on bad extra vars, as one paragraph", async () => {
    const r = await cli(["run", dir.file("site.yml"), "-e", "{not json", "--list-tasks"]);
    expect(r.code).toBe(5);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("shows the stack only with TICKLESS_DEBUG=1", async () => {
    const plain = await cli(["run", "missing.yml"]);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await cli(["run", "missing.yml"], { env: { TICKLESS_DEBUG: "1" } });
    expect(debug.code).toBe(4);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});

describe("tickless run --syntax-check", () => {
  it("accepts a good playbook", async () => {
    const r = await cli(["run", dir.file("site.yml"), "--syntax-check"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`\nplaybook: ${dir.file("site.yml")}\n`);
  });

  it("prints every located error and exits 4", async () => {
    const r = await cli(["run", dir.file("broken.yml"), "--syntax-check"]);
    expect(r.code).toBe(4);
    const lines = r.stderr.trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => l.startsWith(`${dir.file("broken.yml")}:5:`) && /no_such_module/.test(l))).toBe(
      true,
    );
    expect(lines.some((l) => /whenn/.test(l) && l.includes("broken.yml:8:"))).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("locates a YAML syntax error", async () => {
    const r = await cli(["run", dir.file("bad-yaml.yml"), "--syntax-check"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/bad-yaml\.yml:\d+:\d+: /);
  });
});

describe("tickless run --list-hosts / --list-tasks", () => {
  it("lists hosts per play, narrowed by --limit", async () => {
    const r = await cli([
      "run",
      dir.file("site.yml"),
      "-i",
      dir.file("inv.yml"),
      "--list-hosts",
      "-l",
      "web2,localhost",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`playbook: ${dir.file("site.yml")}`);
    expect(r.stdout).toContain(
      "  play #1 (web): Web tuning\tTAGS: [tune]\n    pattern: ['web']\n    hosts (1):\n      web2\n",
    );
    expect(r.stdout).toContain(
      "  play #2 (localhost): Local\tTAGS: []\n    pattern: ['localhost']\n    hosts (1):\n      localhost\n",
    );
    expect(r.stdout).not.toContain("tasks:");
  });

  it("lists task names with inherited tags, honouring --tags", async () => {
    const r = await cli(["run", dir.file("site.yml"), "-i", dir.file("inv.yml"), "--list-tasks"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "    tasks:\n      Say hello\tTAGS: [hello, tune]\n      Inner\tTAGS: [blocky, tune]\n      command\tTAGS: [tune]\n",
    );
    expect(r.stdout).not.toContain("Only one");
    const tagged = await cli(["run", dir.file("site.yml"), "--list-tasks", "-t", "special,blocky"]);
    expect(tagged.stdout).toContain("      Inner\tTAGS: [blocky, tune]\n");
    expect(tagged.stdout).toContain("      Only one\tTAGS: [never, special]\n");
    expect(tagged.stdout).not.toContain("Say hello");
  });
});

describe("tickless validate", () => {
  it("prints ok with counts", async () => {
    const r = await cli(["validate", dir.file("site.yml"), "-i", dir.file("inv.yml")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("ok: 2 plays, 4 tasks\n");
  });

  it("prints every error of every playbook and exits 4", async () => {
    const r = await cli(["validate", dir.file("site.yml"), dir.file("broken.yml"), "missing.yml"]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/broken\.yml:5:\d+: .*no_such_module/);
    expect(r.stdout).toMatch(/broken\.yml:8:\d+: .*whenn/);
    expect(r.stdout).toContain("missing.yml: no such playbook file");
    expect(r.stdout).not.toContain("ok:");
  });
});
