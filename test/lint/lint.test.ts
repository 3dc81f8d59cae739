import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { formatFinding, lintPlaybooks } from "../../src/lint/index.js";
import { loadPlaybook, loadTaskFile } from "../../src/playbook/index.js";
import { cli } from "../cli/helpers.js";
import { removeDir, testdir } from "../support/fs.js";
import { LINES, repository } from "./repository.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeDir(d);
});

async function repo(unsupported: boolean): Promise<string> {
  const dir = await testdir(repository(unsupported), "tickless-lint-");
  dirs.push(dir);
  return dir;
}

describe("lintPlaybooks", () => {
  it("lists every construct tickless does not run, each at its file:line:column, with the tickless way", async () => {
    const dir = await repo(true);
    const findings = await lintPlaybooks([path.join(dir, "site.yml")], { env: {}, cwd: dir });
    const at = findings.map((f) => `${path.relative(dir, f.file)}:${f.line}:${f.column}`);
    expect(at.sort()).toEqual(Object.values(LINES).sort());
    const by = (key: keyof typeof LINES) => {
      const found = findings.find(
        (f) => `${path.relative(dir, f.file)}:${f.line}:${f.column}` === LINES[key],
      );
      if (!found) throw new Error(`no finding at ${LINES[key]}`);
      return found;
    };
    expect(by("varsPrompt")).toMatchObject({
      code: "UNKNOWN_KEY",
      hint: expect.stringMatching(/-e name=value/),
    });
    expect(by("zypperModule")).toMatchObject({
      code: "UNKNOWN_MODULE",
      message: 'unknown module "zypper"',
      hint: expect.stringMatching(/use apt:/),
    });
    expect(by("pacmanModule").message).toBe('unknown module "pacman"');
    expect(by("unknownFilter").message).toMatch(/unknown filter "to_json_pretty"/);
    expect(by("lookupEnv")).toMatchObject({
      code: "EXPRESSION",
      message: expect.stringMatching(/the lookup plugin "password" is not supported/),
      hint: expect.stringMatching(/does not generate or store passwords/),
    });
    expect(by("templateFilter").message).toMatch(/unknown filter "quux"/);
    expect(by("templateFilterAgain").message).toMatch(/unknown filter "zap" \(did you mean "zip"\?\)/);
    expect(by("groupVarsFilter").message).toMatch(/unknown filter "nope"/);
    expect(by("roleDefaultsFilter").message).toMatch(/unknown filter "frob"/);
    expect(by("configKey")).toMatchObject({
      code: "CONFIG_IGNORED",
      message: "[defaults] stdout_callback is ignored",
    });
    // sorted by file, then line
    expect(findings.map((f) => [f.file, f.line])).toEqual(
      [...findings]
        .sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0))
        .map((f) => [f.file, f.line]),
    );
    expect(formatFinding(by("zypperModule"))).toBe(
      `${path.join(dir, "site.yml")}:9:7: unknown module "zypper" (hint: ${by("zypperModule").hint})`,
    );
  });

  it("finds nothing in the same repository written the tickless way, which then loads and runs", async () => {
    const dir = await repo(false);
    expect(await lintPlaybooks([path.join(dir, "site.yml")], { env: {}, cwd: dir })).toEqual([]);
    // what lint calls clean, the loader loads and the run runs: the role's template renders
    await loadPlaybook(path.join(dir, "site.yml"), { rolesPath: [] });
    await loadTaskFile(path.join(dir, "tasks/extra.yml"));
    const run = await cli([
      "run",
      path.join(dir, "site.yml"),
      "-i",
      path.join(dir, "hosts.yml"),
      "-e",
      `out=${dir}`,
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(await readFile(path.join(dir, "app.conf"), "utf8")).toBe("port=6379\nlabel=web\ngreet=HELLO\n");
  });

  it("follows include_role and nested include_tasks written literally, and reads their templates", async () => {
    const dir = await testdir(
      {
        "site.yml": "- hosts: all\n  tasks:\n    - include_role:\n        name: db\n",
        "roles/db/tasks/main.yml": "- include_tasks: more.yml\n",
        "roles/db/tasks/more.yml": "- name: x\n  pacman:\n    name: redis\n",
        "roles/db/templates/db.conf.j2": "{% for x in xs %}{{ x | nope }}{% endfor %}\n",
      },
      "tickless-lint-",
    );
    dirs.push(dir);
    const findings = await lintPlaybooks([path.join(dir, "site.yml")], { env: {}, cwd: dir });
    expect(findings.map((f) => `${path.relative(dir, f.file)}:${f.line}: ${f.message}`)).toEqual([
      'roles/db/tasks/more.yml:2: unknown module "pacman"',
      'roles/db/templates/db.conf.j2:1: invalid expression "x | nope": unknown filter "nope"',
    ]);
  });

  it("lints an inventory given with -i: its loading and the group_vars/ beside it", async () => {
    const dir = await testdir(
      {
        "site.yml": "- hosts: all\n  tasks: []\n",
        "inventories/prod/hosts.yml": "all:\n  hosts:\n    r1:\n",
        "inventories/prod/group_vars/all.yml": 'port: 1\nname: "{{ port | nosuch }}"\n',
        "inventories/ini/hosts": "[redis]\nr1\n",
      },
      "tickless-lint-",
    );
    dirs.push(dir);
    const findings = await lintPlaybooks([path.join(dir, "site.yml")], {
      env: {},
      cwd: dir,
      inventory: [path.join(dir, "inventories/prod/hosts.yml"), path.join(dir, "inventories/ini/hosts")],
    });
    expect(findings.map((f) => `${path.relative(dir, f.file)}:${f.line}: ${f.code}`)).toEqual([
      "inventories/ini/hosts:1: INVENTORY",
      "inventories/prod/group_vars/all.yml:2: EXPRESSION",
    ]);
  });

  it("finds nothing in the built-in playbooks", async () => {
    const dir = path.join(root, "playbooks");
    const files = (await readdir(dir)).filter((f) => f.endsWith(".yml")).map((f) => path.join(dir, f));
    expect(files.length).toBeGreaterThan(5);
    const findings = await lintPlaybooks(files, { env: {}, cwd: root });
    expect(findings.map(formatFinding)).toEqual([]);
  });
});
