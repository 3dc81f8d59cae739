/**
 * pip against ansible-playbook, with nothing from the network and nothing in this machine's Python:
 * each tool gets its own virtualenvs under its root (made by the playbook with `python3 -m venv`, one
 * of them by the pip task itself), and pip finds only two versions of a tiny distribution and a second
 * one, wheels written here (PIP_NO_INDEX, PIP_FIND_LINKS, no pip configuration). After every pip task
 * the playbook records `pip freeze` of the virtualenvs, so the comparison covers what each tool left
 * as well as the status, `changed`, the keys and the words of each result.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { type ResultEntry, refereeInventory, refereeRun, resultKeys, ticklessRun } from "./referee-runs.js";

const PYTHON = "/usr/bin/python3";
const canRun = hasAnsible && spawnSync(PYTHON, ["-c", "import venv, ensurepip"]).status === 0;

/** A pure-Python wheel of `name` at `version` (one module and its dist-info), as pip expects one. */
const MAKE_WHEEL = `
import base64, hashlib, sys, zipfile
name, version, out = sys.argv[1:4]
mod = name.replace("-", "_")
dist = f"{mod}-{version}.dist-info"
files = {
    f"{mod}/__init__.py": f"VERSION = {version!r}\\n",
    f"{dist}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
    f"{dist}/WHEEL": "Wheel-Version: 1.0\\nGenerator: tickless-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
def digest(text):
    raw = hashlib.sha256(text.encode()).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
record = "".join(f"{p},{digest(t)},{len(t.encode())}\\n" for p, t in files.items()) + f"{dist}/RECORD,,\\n"
with zipfile.ZipFile(f"{out}/{mod}-{version}-py3-none-any.whl", "w") as z:
    for p, t in {**files, f"{dist}/RECORD": record}.items():
        z.writestr(p, t)
`;

const VENV = "{{ root }}/venv";
const VENV2 = "{{ root }}/made";

/** A pip task, then what pip freeze says of the virtualenvs. */
const STEPS: [string, string][] = [
  ["install a pinned version", `pip: name=tickless-pkg==1.0 virtualenv=${VENV}`],
  ["install it again", `pip: { name: tickless-pkg==1.0, virtualenv: "${VENV}" }`],
  ["install in check mode", `pip: { name: [tickless-other], virtualenv: "${VENV}" }\n  check_mode: true`],
  ["present in check mode", `pip: { name: "tickless-pkg>=1.0", virtualenv: "${VENV}" }\n  check_mode: true`],
  ["latest upgrades", `pip: { name: tickless-pkg, state: latest, virtualenv: "${VENV}" }`],
  [
    "latest with a version",
    `pip: { name: tickless-pkg, version: "1.0", state: latest, virtualenv: "${VENV}" }\n  ignore_errors: true`,
  ],
  [
    "remove in check mode",
    `pip: { name: tickless-pkg, state: absent, virtualenv: "${VENV}" }\n  check_mode: true`,
  ],
  ["remove", `pip: { name: tickless-pkg, state: absent, virtualenv: "${VENV}" }`],
  ["remove again", `pip: { name: tickless-pkg, state: absent, virtualenv: "${VENV}" }`],
  ["a requirements file", `pip: { requirements: "{{ root }}/../requirements.txt", virtualenv: "${VENV}" }`],
  [
    "the requirements again",
    `pip: { requirements: "{{ root }}/../requirements.txt", virtualenv: "${VENV}" }`,
  ],
  ["pip given as executable", `pip: { name: tickless-pkg, version: "1.0", executable: "${VENV}/bin/pip" }`],
  [
    "a virtualenv made by the task",
    `pip: { name: "tickless-pkg<1.1", virtualenv: "${VENV2}", virtualenv_command: "${PYTHON} -m venv" }`,
  ],
  [
    "reinstall from chdir, umask, a virtualenv relative to it",
    'pip: { name: tickless-pkg, state: forcereinstall, chdir: "{{ root }}", virtualenv: venv, umask: "0022" }',
  ],
  [
    "check mode with a virtualenv to make",
    'pip: { name: tickless-pkg, virtualenv: "~/.tickless-pip-never-made" }\n  check_mode: true',
  ],
  [
    "virtualenv_python beside venv",
    `pip: { name: tickless-pkg, virtualenv: "{{ root }}/v3", virtualenv_command: "${PYTHON} -m venv", virtualenv_python: python3 }\n  ignore_errors: true`,
  ],
  [
    "a virtualenv with the site packages",
    `pip: { name: tickless-other, virtualenv: "{{ root }}/v4", virtualenv_command: "${PYTHON} -m venv", virtualenv_site_packages: true }`,
  ],
  ["a bad umask", `pip: { name: tickless-pkg, virtualenv: "${VENV}", umask: "rw" }\n  ignore_errors: true`],
  [
    "a package pip cannot find",
    `pip: { name: tickless-nothere, virtualenv: "${VENV}" }\n  ignore_errors: true`,
  ],
];

const FREEZE = `{{ root }}/venv/bin/pip freeze; test -x {{ root }}/made/bin/pip && {{ root }}/made/bin/pip freeze; true`;

function playbook(dir: string): string {
  const tasks = [
    "- name: a virtualenv",
    `  command: ${PYTHON} -m venv ${VENV}`,
    ...STEPS.flatMap(([name, task], i) => [
      `- name: ${name}`,
      `  ${task}`,
      `- name: freeze after ${i}`,
      `  shell: ${JSON.stringify(FREEZE)}`,
      "  changed_when: false",
      "  check_mode: false",
    ]),
  ];
  const env = [
    "  environment:",
    "    PIP_CONFIG_FILE: /dev/null",
    "    PIP_NO_INDEX: '1'",
    `    PIP_FIND_LINKS: ${path.join(dir, "wheels")}`,
    "    PIP_DISABLE_PIP_VERSION_CHECK: '1'",
  ];
  const indented = tasks.flatMap((t) => t.split("\n")).map((t) => `    ${t}`);
  return ["- hosts: h1", "  gather_facts: false", ...env, "  tasks:", ...indented, ""].join("\n");
}

type Entry = ResultEntry;

/** Bookkeeping of either tool that is not the module's result. */
const IGNORED = new Set([
  "_ansible_no_log",
  "invocation",
  "status",
  "failed",
  "skipped",
  "ignored",
  "changes",
  "stdout_lines",
  "stderr_lines",
  "start",
  "end",
  "delta",
  "rc",
  "cmd",
  "msg",
]);

const keysOf = (r: Record<string, unknown>) => resultKeys(r, IGNORED);

/** A value with each tool's root written the same way. */
function rooted(value: unknown, root: string): string {
  return JSON.stringify(value ?? null).replaceAll(root, "ROOT");
}

let dir: string;
let theirs: Entry[];
let ours: Entry[];
let roots: { ansible: string; tickless: string };

beforeAll(async () => {
  if (!canRun) return;
  dir = await tempDir("tickless-pip-");
  const wheels = path.join(dir, "wheels");
  await mkdir(wheels);
  for (const [name, version] of [
    ["tickless-pkg", "1.0"],
    ["tickless-pkg", "1.1"],
    ["tickless-other", "2.0"],
  ])
    execFileSync(PYTHON, ["-c", MAKE_WHEEL, name, version, wheels]);
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": playbook(dir),
    "requirements.txt": "tickless-other==2.0\n",
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  await writeFile(path.join(dir, "p.yml"), playbook(dir));
  const [a, t] = await Promise.all([refereeRun(dir), ticklessRun(dir)]);
  theirs = a.report.plays[0].tasks.map((x) => ({
    name: x.task.name,
    status: x.hosts.h1.status,
    result: x.hosts.h1,
  }));
  ours = t.results.map((e) => ({ name: e.task, status: e.status, result: e.result as Record<string, any> }));
  roots = { ansible: a.root, tickless: t.root };
}, 300_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!canRun)("pip in throwaway virtualenvs, against ansible-playbook", () => {
  it("gives every task the same status, changed, result keys, cmd and msg", () => {
    expect(ours.map((e) => `${e.name}: ${e.status}`)).toEqual(theirs.map((e) => `${e.name}: ${e.status}`));
    for (const [i, mine] of ours.entries()) {
      const ref = theirs[i];
      if (mine.name.startsWith("freeze after") || i === 0) continue;
      expect({ task: mine.name, keys: keysOf(mine.result) }).toEqual({
        task: ref.name,
        keys: keysOf(ref.result),
      });
      for (const field of ["changed", "cmd", "msg", "name", "version", "state", "requirements", "virtualenv"])
        expect({ task: mine.name, field, value: rooted(mine.result[field], roots.tickless) }).toEqual({
          task: mine.name,
          field,
          value: rooted(ref.result[field], roots.ansible),
        });
    }
  });

  it("leaves the same distributions in the virtualenvs after every task", () => {
    const states = (entries: Entry[]) =>
      entries.filter((e) => e.name.startsWith("freeze after")).map((e) => `${e.name}: ${e.result.stdout}`);
    expect(states(ours)).toEqual(states(theirs));
    const after = (step: string) => states(ours)[STEPS.findIndex(([n]) => n === step)];
    expect(after("install a pinned version")).toBe("freeze after 0: tickless-pkg==1.0");
    expect(after("install in check mode")).toBe("freeze after 2: tickless-pkg==1.0");
    expect(after("latest upgrades")).toBe("freeze after 4: tickless-pkg==1.1");
    expect(after("remove in check mode")).toBe("freeze after 6: tickless-pkg==1.1");
    expect(after("remove")).toBe("freeze after 7: ");
    expect(after("a requirements file")).toBe("freeze after 9: tickless-other==2.0");
    expect(after("a virtualenv made by the task")).toMatch(
      /tickless-other==2\.0\ntickless-pkg==1\.0\ntickless-pkg==1\.0$/,
    );
  });

  it("reports check mode and failures in Ansible's words", () => {
    const result = (name: string) => ours.find((e) => e.name === name)?.result ?? {};
    expect(result("install in check mode")).toMatchObject({ changed: true });
    expect(result("install in check mode").cmd).toMatch(/venv\/bin\/pip3 list --format=freeze$/);
    expect(result("present in check mode")).toMatchObject({ changed: false });
    expect(result("latest with a version").msg).toBe("version is incompatible with state=latest");
    expect(result("a package pip cannot find").msg).toContain(
      "No matching distribution found for tickless-nothere",
    );
    expect(result("a virtualenv made by the task")).toMatchObject({ changed: true });
    expect(result("the requirements again")).toMatchObject({ changed: false });
    expect(result("reinstall from chdir, umask, a virtualenv relative to it")).toMatchObject({
      changed: true,
      virtualenv: `${roots.tickless}/venv`,
    });
    expect(result("check mode with a virtualenv to make")).toMatchObject({ changed: true });
    expect(result("check mode with a virtualenv to make").cmd).toBeUndefined();
    expect(result("a bad umask").msg).toBe("umask must be an octal integer");
    expect(result("virtualenv_python beside venv").msg).toBe(
      "virtualenv_python should not be used when using the venv module or pyvenv as virtualenv_command",
    );
    expect(result("a virtualenv with the site packages")).toMatchObject({ changed: true });
  });
});
