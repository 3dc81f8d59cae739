/**
 * Ansible parity: the same arguments on the same starting bytes give the same resulting bytes
 * (and the same changed verdict) with real ansible-playbook and with tickless's modules.
 * One ansible-playbook run (connection local) covers the whole table.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { FILE_MODULES } from "../../../src/modules/files/index.js";
import type { StateModule } from "../../../src/modules/types.js";
import { ANSIBLE_PLAYBOOK, ansiblePlaybook, hasAnsible } from "../../referee/ansible.js";
import { converge, testContext } from "../harness.js";

const ANSIBLE = ANSIBLE_PLAYBOOK;
if (!hasAnsible && process.env.CI) throw new Error(`${ANSIBLE} is required for the parity tests in CI`);
if (!hasAnsible) console.warn(`parity tests skipped: ${ANSIBLE} not found`);

interface Case {
  name: string;
  module: "lineinfile" | "blockinfile" | "copy" | "template";
  /** Arguments without the path/dest, which the harness sets. */
  args: Record<string, unknown>;
  /** Starting bytes; undefined = no file. */
  initial?: string;
  /** Arguments that differ for Ansible (template sources). */
  ansibleArgs?: Record<string, unknown>;
  /** Ansible's own result is not a fixed point (a second run changes it again); tickless matches it. */
  notFixedPoint?: boolean;
}

const BLOCK = "# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\n";
const INI = "[main]\nx=1\n[other]\ny=2\n";

const CASES: Case[] = [
  {
    name: "li regexp replace",
    module: "lineinfile",
    initial: "a=1\nb=2\nc=3\n",
    args: { regexp: "^b=", line: "b=20" },
  },
  {
    name: "li regexp no match appends",
    module: "lineinfile",
    initial: "a=1\n",
    args: { regexp: "^d=", line: "d=4" },
  },
  {
    name: "li insertafter match",
    module: "lineinfile",
    initial: INI,
    args: { insertafter: "^\\[main\\]", line: "z=9" },
  },
  {
    name: "li insertafter no match",
    module: "lineinfile",
    initial: INI,
    args: { insertafter: "^\\[none\\]", line: "z=9" },
  },
  {
    name: "li insertbefore match",
    module: "lineinfile",
    initial: INI,
    args: { insertbefore: "^\\[other\\]", line: "w=0" },
  },
  {
    name: "li insertbefore no match",
    module: "lineinfile",
    initial: INI,
    args: { insertbefore: "^\\[no\\]", line: "w=0" },
  },
  {
    name: "li insertbefore BOF",
    module: "lineinfile",
    initial: INI,
    args: { insertbefore: "BOF", line: "# head" },
  },
  {
    name: "li insertafter EOF",
    module: "lineinfile",
    initial: INI,
    args: { insertafter: "EOF", line: "tail=1" },
  },
  {
    name: "li firstmatch insertafter",
    module: "lineinfile",
    initial: "x\nmark\ny\nmark\nz\n",
    args: { insertafter: "^mark", firstmatch: true, line: "new" },
  },
  {
    name: "li last insertafter",
    module: "lineinfile",
    initial: "x\nmark\ny\nmark\nz\n",
    args: { insertafter: "^mark", line: "new" },
  },
  {
    name: "li backrefs match",
    module: "lineinfile",
    initial: "port 80\nhost a\n",
    args: { regexp: "^port (\\d+)$", line: "listen \\1 \\g<1>", backrefs: true },
  },
  {
    name: "li backrefs no match",
    module: "lineinfile",
    initial: "port 80\n",
    args: { regexp: "^nomatch (.*)$", line: "x \\1", backrefs: true },
  },
  {
    name: "li absent regexp",
    module: "lineinfile",
    initial: "a\n#c1\nb\n#c2\n",
    args: { regexp: "^#", state: "absent" },
  },
  {
    name: "li absent line",
    module: "lineinfile",
    initial: "a\nb\na\n",
    args: { line: "a", state: "absent" },
  },
  {
    name: "li absent search_string",
    module: "lineinfile",
    initial: "foo=1\nbar=2\n",
    args: { search_string: "bar", state: "absent" },
  },
  { name: "li create", module: "lineinfile", args: { line: "hello", create: true } },
  { name: "li already present", module: "lineinfile", initial: "a\nb\n", args: { line: "b" } },
  {
    name: "li duplicates last replaced",
    module: "lineinfile",
    initial: "k=1\nk=2\n",
    args: { regexp: "^k=", line: "k=3" },
  },
  {
    name: "li duplicates firstmatch",
    module: "lineinfile",
    initial: "k=1\nk=2\n",
    args: { regexp: "^k=", line: "k=3", firstmatch: true },
  },
  {
    name: "li search_string replace",
    module: "lineinfile",
    initial: "listen 1.2.3.4\n",
    args: { search_string: "listen ", line: "listen 0.0.0.0" },
  },
  {
    name: "li no final newline regexp",
    module: "lineinfile",
    initial: "a\nb",
    args: { regexp: "^b", line: "b" },
  },
  { name: "li no final newline append", module: "lineinfile", initial: "a\nb", args: { line: "c" } },
  {
    // Ansible appends "c\n" to the unterminated "b" ("a\nbc\n"); "^b" then matches "bc" on every run.
    name: "li no final newline insertafter",
    module: "lineinfile",
    initial: "a\nb",
    args: { insertafter: "^b", line: "c" },
    notFixedPoint: true,
  },
  {
    name: "li python dollar",
    module: "lineinfile",
    initial: "b=2\nc\n",
    args: { regexp: "^b=2$", line: "b=3" },
  },
  {
    name: "li named group backrefs",
    module: "lineinfile",
    initial: "key=old\n",
    args: { regexp: "^(?P<k>\\w+)=old$", line: "\\g<k>=new", backrefs: true },
  },
  {
    name: "li insertbefore first line",
    module: "lineinfile",
    initial: "first\nsecond\n",
    args: { insertbefore: "^first", line: "zero" },
  },
  { name: "li absent missing file", module: "lineinfile", args: { line: "x", state: "absent" } },
  { name: "li crlf exact line", module: "lineinfile", initial: "a\r\nb\r\n", args: { line: "b" } },
  { name: "li mode", module: "lineinfile", initial: "a\n", args: { line: "a", mode: "0600" } },
  { name: "bi insert", module: "blockinfile", initial: "a\nb\n", args: { block: "x=1\ny=2\n" } },
  { name: "bi replace", module: "blockinfile", initial: `a\n${BLOCK}b\n`, args: { block: "new\n" } },
  { name: "bi unchanged", module: "blockinfile", initial: `a\n${BLOCK}b\n`, args: { block: "old\n" } },
  {
    name: "bi custom markers",
    module: "blockinfile",
    initial: "a\n",
    args: { block: "x\n", marker: "// {mark} tickless", marker_begin: "START", marker_end: "STOP" },
  },
  {
    name: "bi insertbefore BOF",
    module: "blockinfile",
    initial: "a\nb\n",
    args: { block: "x\n", insertbefore: "BOF" },
  },
  {
    name: "bi insertafter regexp",
    module: "blockinfile",
    initial: "[main]\nk=v\n",
    args: { block: "x\n", insertafter: "^\\[main\\]" },
  },
  { name: "bi absent", module: "blockinfile", initial: `a\n${BLOCK}b\n`, args: { state: "absent" } },
  { name: "bi block without newline", module: "blockinfile", initial: "a\n", args: { block: "x=1" } },
  { name: "bi file without newline", module: "blockinfile", initial: "a\nb", args: { block: "x\n" } },
  { name: "bi create", module: "blockinfile", args: { block: "x\n", create: true } },
  { name: "bi crlf file", module: "blockinfile", initial: "a\r\nb\r\n", args: { block: "x\n" } },
  { name: "bi absent without block", module: "blockinfile", initial: "a\n", args: { state: "absent" } },
  { name: "copy force false", module: "copy", initial: "old\n", args: { content: "new\n", force: false } },
  { name: "copy new with newline", module: "copy", args: { content: "hello\n" } },
  { name: "copy without newline", module: "copy", initial: "old\n", args: { content: "hello" } },
  { name: "copy same", module: "copy", initial: "same\n", args: { content: "same\n" } },
  { name: "copy mode new", module: "copy", args: { content: "secret\n", mode: "0600" } },
  { name: "copy mode only", module: "copy", initial: "same\n", args: { content: "same\n", mode: "0640" } },
  { name: "copy src", module: "copy", initial: "old\n", args: { src: "fixtures/copy-src.txt" } },
  {
    name: "template simple",
    module: "template",
    initial: "port 1\n",
    args: { src: "fixtures/simple.conf.hbs" },
    ansibleArgs: { src: "fixtures/simple.conf.j2" },
  },
];

const TEMPLATE_VARS = { port: 6379, name: "cache" };
const HERE = new URL("..", import.meta.url).pathname;
const modules = new Map(FILE_MODULES.map((m) => [m.name, m as StateModule]));

/** The file argument's name per module. */
function pathArg(c: Case): string {
  return c.module === "copy" || c.module === "template" ? "dest" : "path";
}

function controllerArgs(c: Case, extra: Record<string, unknown>): Record<string, unknown> {
  const args = { ...c.args, ...extra };
  if (typeof args.src === "string") args.src = join(HERE, args.src);
  return args;
}

describe.skipIf(!hasAnsible)("parity with ansible-playbook", () => {
  let root: string;
  let ansibleChanged: boolean[];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tickless-parity-"));
    for (const side of ["ansible", "tickless"]) {
      await mkdir(join(root, side));
      for (const [i, c] of CASES.entries()) {
        if (c.initial === undefined) continue;
        const file = join(root, side, `case${i}.txt`);
        await writeFile(file, c.initial);
        await chmod(file, 0o644);
      }
    }
    const tasks = CASES.map((c, i) => ({
      name: c.name,
      [`ansible.builtin.${c.module}`]: controllerArgs(c, {
        ...c.ansibleArgs,
        [pathArg(c)]: join(root, "ansible", `case${i}.txt`),
      }),
      vars: TEMPLATE_VARS,
    }));
    const playbook = join(root, "parity.yml");
    await writeFile(playbook, JSON.stringify([{ hosts: "localhost", gather_facts: false, tasks }], null, 1));
    const { report } = await ansiblePlaybook(["-c", "local", "-i", "localhost,", playbook]);
    ansibleChanged = report.plays[0].tasks.map((t: any) => t.hosts.localhost.status === "changed");
    expect(ansibleChanged).toHaveLength(CASES.length);
  }, 180_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("covers at least 25 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))("%s", async (_name, c, i) => {
    const conn = new LocalConnection();
    const dest = join(root, "tickless", `case${i}.txt`);
    const module = modules.get(c.module)!;
    const run = await converge(
      module,
      controllerArgs(c, { [pathArg(c)]: dest }),
      conn,
      testContext(TEMPLATE_VARS),
    );
    expect(run.replan.length > 0).toBe(c.notFixedPoint === true);
    const ansibleFile = join(root, "ansible", `case${i}.txt`);
    expect(existsSync(dest)).toBe(existsSync(ansibleFile));
    if (existsSync(ansibleFile)) {
      expect((await readFile(dest)).toString("latin1")).toBe(
        (await readFile(ansibleFile)).toString("latin1"),
      );
      expect(((await stat(dest)).mode & 0o7777).toString(8)).toBe(
        ((await stat(ansibleFile)).mode & 0o7777).toString(8),
      );
    }
    expect(run.changes.length > 0).toBe(ansibleChanged[i]);
  });
});
