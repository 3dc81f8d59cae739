/**
 * Bad input through the whole command line (runCli): the documented exit code, one located
 * paragraph with a hint on stderr, no stack frame, and nothing written on the host.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cli } from "./helpers.js";

const BAD = join(import.meta.dirname, "..", "playbook", "fixtures", "bad");

/** Exit codes documented in README.md ("Exit codes follow ansible-playbook"). */
const PARSE = 4;
const BAD_OPTIONS = 5;
const HOST_FAILED = 2;

interface Case {
  what: string;
  /** Arguments after `tickless`, with `ROOT` replaced by the temp root. */
  argv: string[];
  code: number;
  /** Where the paragraph must start: `file:line:column` relative to ROOT, or undefined when no source exists. */
  at?: string;
  /** A piece of the hint. */
  hint: string;
}

/** The playbook corpus of test/playbook/bad.test.ts: fixture, `[file:]line:column`, hint piece. */
const PLAYBOOK_FIXTURES: [string, string, string][] = [
  ["syntax-tab.yml", "3:1", "never tabs"],
  ["syntax-unclosed-quote.yml", "5:1", "not closed"],
  ["syntax-bad-indent.yml", "5:1", "same column"],
  ["syntax-duplicate-key.yml", "4:7", "only once"],
  ["syntax-unquoted-template.yml", "4:13", "quote values that start with {{"],
  ["syntax-template-text.yml", "4:25", "quote values that start with {{"],
  ["not-a-list.yml", "1:1", "- hosts: all"],
  ["play-missing-hosts.yml", "1:3", "add hosts:"],
  ["play-unknown-key.yml", "2:3", '"tasks"'],
  ["task-unknown-key-whn.yml", "5:7", 'did you mean "when"?'],
  ["task-notify-number.yml", "4:15", "list of strings"],
  ["task-retries-string.yml", "4:16", "whole number"],
  ["play-gather-facts-string.yml", "2:17", "boolean"],
  ["play-serial-word.yml", "2:11", "percentage"],
  ["play-serial-zero-percent.yml", "2:11", '"30%"'],
  ["play-strategy.yml", "2:13", "linear or free"],
  ["play-max-fail.yml", "2:24", "0 to 100"],
  ["block-unknown-key.yml", "5:7", 'did you mean "rescue"?'],
  ["loop-control-unknown-key.yml", "6:9", 'did you mean "label"?'],
  ["verify-unknown-key.yml", "6:9", "command, that"],
  ["include-unknown-key.yml", "4:7", "include_tasks"],
  ["unknown-module.yml", "4:7", 'did you mean "copy"?'],
  ["two-modules.yml", "4:7", "one task per module"],
  ["no-module.yml", "3:7", "command: uptime"],
  ["module-args-unknown.yml", "4:9", 'did you mean "dest"?'],
  ["module-args-missing.yml", "4:7", "add dest:"],
  ["module-args-type.yml", "5:17", "backup"],
  // the test registry's copy has a `state` enum; the real copy has no `state` at all
  ["module-args-enum.yml", "5:9", 'unknown argument "state"'],
  ["module-args-key-value.yml", "3:13", "dest=/path"],
  ["import-missing.yml", "3:21", "relative to the file"],
  ["import-cycle.yml", "parts/cycle-b.yml:2:17", "import itself"],
  ["import-bad-task.yml", "parts/bad-tasks.yml:5:3", 'did you mean "when"?'],
  ["import-template.yml", "3:21", "include_tasks"],
  ["import-playbook-missing.yml", "1:20", "relative to the file"],
  ["unknown-handler.yml", "4:15", 'did you mean "restart redis-server"?'],
  ["handler-block.yml", "4:7", "one task"],
  ["bad-register.yml", "4:17", "register: result"],
  ["bad-loop-var.yml", "6:9", "loop_var: pkg"],
  ["bad-when.yml", "4:13", "and, or, not"],
  ["bad-changed-when.yml", "5:21", "and, or, not"],
  ["bad-verify-expression.yml", "5:29", "and, or, not"],
  ["ignore-errors-expression.yml", "4:22", "and, or, not"],
  ["bad-template.yml", "4:14", "}}"],
  ["bad-template-name.yml", "3:13", "}}"],
  ["vars-files-missing.yml", "4:7", "relative to the file"],
  ["vars-files-not-mapping.yml", "parts/vars-list.yml:1:1", "name: value"],
  ["vars-not-mapping.yml", "2:9", "mapping"],
  ["environment-nested.yml", "4:13", "quote the value"],
  ["task-not-mapping.yml", "3:7", "colon and a space"],
  ["play-roles.yml", "3:7", "looked in"],
  ["include-delegate-to.yml", "5:7", "not on include_tasks"],
  ["task-local-action.yml", "3:7", "delegate_to: localhost"],
  ["play-become-word.yml", "2:11", "boolean"],
  ["template-log-helper.yml", "4:21", "log is not available"],
  ["yaml-alias-bomb.yml", "4:12", "fewer levels"],
  ["yaml-undefined-alias.yml", "3:11", "&redis_port"],
  ["yaml-bad-merge.yml", "5:11", "<<: *anchor"],
  ["yaml-vault.yml", "3:16", "!vault |"],
  ["yaml-unknown-tag.yml", "3:16", "standard tags"],
  ["bytes-invalid-utf8.yml", "3:16", "as UTF-8"],
  ["bytes-nul.yml", "3:17", "binary or corrupt"],
  ["vars-files-invalid-utf8.yml", "parts/vars-invalid-utf8.yml:1:14", "as UTF-8"],
];

const INVENTORY = "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n";

/** A valid playbook that writes ROOT/written.txt: run with bad options, it must write nothing. */
const WRITES = `- hosts: all
  gather_facts: false
  tasks:
    - name: write
      copy: { dest: ROOT/written.txt, content: "x\\n" }
`;

/** Files of the temp root besides the copied corpus (ROOT is replaced by its path). */
const FILES: Record<string, string> = {
  "inventory.yml": INVENTORY,
  "writes.yml": WRITES,
  "inv-bad-yaml.yml": "all:\n  hosts:\n    web1: {ansible_host: [}\n",
  "inv-hosts-list.yml": "all:\n  children:\n    web:\n      hosts:\n        - web1\n",
  "inv-unknown-key.yml": "all:\n  hosts:\n    localhost: {}\n  childern:\n    web: {}\n",
  "inv-bad-port.yml":
    "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_port: twenty-two\n",
  "broken.json": '{"a": 1,\n',
  "remove-root.yml":
    '- hosts: all\n  gather_facts: false\n  vars: { base: "" }\n  tasks:\n    - file: { path: "{{ base }}/", state: absent }\n',
  "include-self.yml":
    "- hosts: all\n  gather_facts: false\n  tasks:\n    - include_tasks: include-self-tasks.yml\n",
  "include-self-tasks.yml": "- include_tasks: include-self-tasks.yml\n",
  "inv-vault.yml":
    "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_become_password: !vault { a: 1 }\n",
  "delegate-unknown.yml": `- hosts: all
  gather_facts: false
  tasks:
    - name: write
      copy: { dest: ROOT/written.txt, content: "x\\n" }
    - block:
        - command: "true"
          delegate_to: db9
`,
  "inv-undefined-alias.yml": "all:\n  hosts:\n    localhost: *local\n",
  "inv-nul.yml": "all:\n  hosts:\n    local\0host: {}\n",
  "undefined-in-play-vars.yml": `- hosts: all
  gather_facts: false
  vars:
    conf: "port={{ redis_port }}"
  tasks:
    - name: write the conf
      copy: { dest: ROOT/undefined.txt, content: "{{ conf }}" }
`,
  "when-unknown-filter.yml": `- hosts: all
  gather_facts: false
  tasks:
    - name: write when
      copy: { dest: ROOT/when.txt, content: "x" }
      when: inventory_hostname | nosuchfilter
`,
};

const CASES: Case[] = [
  ...PLAYBOOK_FIXTURES.map(
    ([fixture, at, hint]): Case => ({
      what: `playbook ${fixture}`,
      argv: ["run", `ROOT/${fixture}`, "-i", "ROOT/inventory.yml"],
      code: PARSE,
      at: at.includes(".yml:") ? at : `${fixture}:${at}`,
      hint,
    }),
  ),
  {
    what: "-e @extra-vars-broken.json",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "-e", "@ROOT/extra-vars-broken.json"],
    code: BAD_OPTIONS,
    at: "extra-vars-broken.json:2:1",
    hint: "not closed",
  },
  {
    what: "-e @extra-vars-list.yml",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "-e", "@ROOT/extra-vars-list.yml"],
    code: BAD_OPTIONS,
    at: "extra-vars-list.yml",
    hint: "name: value",
  },
  {
    what: "inventory: bad YAML",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inv-bad-yaml.yml"],
    code: PARSE,
    at: "inv-bad-yaml.yml:3:",
    hint: "",
  },
  {
    what: "inventory: hosts as a list",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inv-hosts-list.yml"],
    code: PARSE,
    at: "inv-hosts-list.yml:5:9",
    hint: "hosts: {web1: {}}",
  },
  {
    what: "inventory: unknown group key",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inv-unknown-key.yml"],
    code: PARSE,
    at: "inv-unknown-key.yml:4:3",
    hint: "only `hosts`, `children` and `vars`",
  },
  {
    what: "inventory: bad port value",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inv-bad-port.yml"],
    code: PARSE,
    at: "inv-bad-port.yml:5:21",
    hint: "1 to 65535",
  },
  {
    what: "delegate_to a host the inventory does not have",
    argv: ["run", "ROOT/delegate-unknown.yml", "-i", "ROOT/inventory.yml"],
    code: PARSE,
    at: "delegate-unknown.yml:8:24",
    hint: "a host of the inventory, or to localhost",
  },
  {
    what: "inventory: !vault on a mapping",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inv-vault.yml"],
    code: PARSE,
    at: "inv-vault.yml:5:32",
    hint: "!vault |",
  },
  {
    what: "inventory: an undefined alias",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inv-undefined-alias.yml"],
    code: PARSE,
    at: "inv-undefined-alias.yml:3:16",
    hint: "&local",
  },
  {
    what: "inventory: a NUL byte",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inv-nul.yml"],
    code: PARSE,
    at: "inv-nul.yml:3:10",
    hint: "binary or corrupt",
  },
  {
    what: "inventory: invalid UTF-8",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inv-latin1.yml"],
    code: PARSE,
    at: "inv-latin1.yml:3:8",
    hint: "as UTF-8",
  },
  {
    what: "-e @file with invalid UTF-8",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "-e", "@ROOT/inv-latin1.yml"],
    code: BAD_OPTIONS,
    at: "inv-latin1.yml:3:8",
    hint: "invalid UTF-8 at byte offset 21",
  },
  {
    what: "inventory: missing file",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/no-such-inventory.yml"],
    code: PARSE,
    at: "no-such-inventory.yml",
    hint: "",
  },
  {
    what: "-e with bad JSON",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "-e", '{"a": 1'],
    code: BAD_OPTIONS,
    hint: "",
  },
  {
    what: "-e with a missing @file",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "-e", "@ROOT/missing-vars.yml"],
    code: BAD_OPTIONS,
    at: "missing-vars.yml",
    hint: "",
  },
  {
    what: "-e =x",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "-e", "=x"],
    code: BAD_OPTIONS,
    hint: "name=value",
  },
  {
    what: "an unknown option",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "--chekc"],
    code: BAD_OPTIONS,
    hint: "--help",
  },
  {
    what: "--forks 0",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "--forks", "0"],
    code: BAD_OPTIONS,
    hint: "--help",
  },
  {
    what: "--forks abc",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "-f", "abc"],
    code: BAD_OPTIONS,
    hint: "--help",
  },
  {
    what: "a bad --limit regex",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "--limit", "~web(\\d"],
    code: BAD_OPTIONS,
    hint: "~web\\d+",
  },
  {
    what: "--host-key-checking maybe",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "--host-key-checking", "maybe"],
    code: BAD_OPTIONS,
    hint: "--help",
  },
  {
    what: "an unknown command",
    argv: ["rnu", "ROOT/writes.yml"],
    code: BAD_OPTIONS,
    hint: "--help",
  },
  {
    what: "a missing playbook",
    argv: ["run", "ROOT/no-such-playbook.yml", "-i", "ROOT/inventory.yml"],
    code: PARSE,
    at: "no-such-playbook.yml",
    hint: "relative to the current directory",
  },
  {
    what: "a missing --limit @file",
    argv: ["run", "ROOT/writes.yml", "-i", "ROOT/inventory.yml", "--limit", "@ROOT/no-such-limit"],
    code: BAD_OPTIONS,
    at: "no-such-limit",
    hint: "",
  },
  {
    what: "a bad when filter",
    argv: ["run", "ROOT/when-unknown-filter.yml", "-i", "ROOT/inventory.yml"],
    code: PARSE,
    at: "when-unknown-filter.yml:6:",
    hint: "",
  },
];

let root: string;

/** Every path under the root with its bytes, to prove a run wrote nothing. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const out = new Map<string, string>();
  for (const e of entries) {
    const p = join(e.parentPath, e.name);
    out.set(p, e.isFile() ? await readFile(p, "utf8") : "<dir>");
  }
  return out;
}

/**
 * The playbook corpus is validated with a test registry whose copy needs no content; the CLI has
 * the real copy module, which requires src or content: add content on a line of its own (after
 * the bad line, so locations stay) to keep each fixture's one error. Writes go under the root.
 */
async function copyCorpus(): Promise<void> {
  await cp(BAD, root, { recursive: true });
  for (const name of await readdir(root)) {
    if (!name.endsWith(".yml")) continue;
    const file = join(root, name);
    const original = await readFile(file, "utf8");
    let text = original.replaceAll("/tmp/x", `${root}/x`);
    if (name === "module-args-type.yml" || name === "module-args-enum.yml") text += "        content: y\n";
    // rewritten only when changed: the bytes-* fixtures are not valid UTF-8 text on purpose
    if (text !== original) await writeFile(file, text);
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tickless-bad-cli-"));
  await copyCorpus();
  for (const [name, text] of Object.entries(FILES)) {
    await writeFile(join(root, name), text.replaceAll("ROOT", root));
  }
  // a Latin-1 "é" (0xe9): not UTF-8
  await writeFile(join(root, "inv-latin1.yml"), Buffer.from("all:\n  hosts:\n    caf\xe9: {}\n", "latin1"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** stderr must be one paragraph: one line, no stack frame, a hint, located where a source exists. */
function expectOneParagraph(stderr: string, c: Case): void {
  expect(stderr.endsWith("\n")).toBe(true);
  expect(stderr.trimEnd()).not.toContain("\n");
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).not.toMatch(/\bat (async |new )?[\w.<>]+ \(/);
  expect(stderr).toMatch(/\(hint: .+\)\n$/);
  if (c.hint) expect(stderr).toContain(c.hint);
  if (c.at) expect(stderr.startsWith(`${root}/${c.at}`)).toBe(true);
}

describe("tickless run with bad input", () => {
  test("the corpus has at least 35 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(35);
  });

  test.each(CASES)("$what → exit $code", async (c) => {
    const before = await snapshot(root);
    const r = await cli(c.argv.map((a) => a.replaceAll("ROOT", root)));
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: c.code });
    expectOneParagraph(r.stderr, c);
    expect(r.stdout).toBe("");
    expect(await snapshot(root)).toEqual(before);
  });

  test("file state=absent of / (an empty variable) is refused at the task in check mode (exit 2)", async () => {
    const r = await cli(["run", `${root}/remove-root.yml`, "-i", `${root}/inventory.yml`, "--check"]);
    expect(r.code).toBe(HOST_FAILED);
    expect(r.stdout).toContain(
      `${root}/remove-root.yml:5:7: refusing to remove / recursively: it is the root directory`,
    );
  });

  test("include_tasks of itself stops at 64 levels: the host fails at the include, naming the cycle (exit 2)", async () => {
    const before = await snapshot(root);
    const r = await cli(["run", `${root}/include-self.yml`, "-i", `${root}/inventory.yml`]);
    expect(r.code).toBe(HOST_FAILED);
    expect(r.stdout).toContain(
      `${root}/include-self-tasks.yml:1:3: include_tasks nested more than 64 deep: include-self-tasks.yml → include-self-tasks.yml`,
    );
    expect(r.stdout).toMatch(/localhost +: ok=0 +changed=0 +unreachable=0 +failed=1 /);
    expect(await snapshot(root)).toEqual(before);
  }, 60_000);

  test("an undefined variable in play vars is found at run time: the host fails (exit 2), nothing is written", async () => {
    const before = await snapshot(root);
    const r = await cli(["run", `${root}/undefined-in-play-vars.yml`, "-i", `${root}/inventory.yml`]);
    expect(r.code).toBe(HOST_FAILED);
    expect(r.stdout).toMatch(
      new RegExp(
        `fatal: \\[localhost\\]: FAILED! => .*${root}/undefined-in-play-vars.yml:\\d+:\\d+: undefined variable .*redis_port.*hint`,
      ),
    );
    expect(r.stdout).not.toMatch(/\n\s+at /);
    expect(r.stdout).toMatch(/localhost +: ok=0 +changed=0 +unreachable=0 +failed=1 /);
    expect(await snapshot(root)).toEqual(before);
  });
});
