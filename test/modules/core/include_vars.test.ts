import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { formatError } from "../../../src/errors.js";
import { includeVarsModule } from "../../../src/modules/core/include_vars.js";
import { ModuleRegistry } from "../../../src/modules/registry.js";
import type { ModuleContext } from "../../../src/modules/types.js";
import { validatePlaybook } from "../../../src/playbook/index.js";
import { removeDir, testdir } from "../../support/fs.js";
import { coreContext } from "../../support/module-context.js";

let dir: string;
const host = new LocalConnection();

beforeAll(async () => {
  dir = await testdir({
    "tasks/vars/in-task-vars.yml": "where: task vars dir\n",
    "vars/v.yml": "a: 1\nlist: [x, y]\n",
    "v.yml": "a: shadowed by vars/v.yml\n",
    "broken.yml": "a: 1\nb: [unclosed\n",
    "scalar.yml": "just words\n",
    "d/1.yml": "n: 1\nkeep: one\n",
    "d/2.yaml": "n: 2\n",
    "d/.hidden.yml": "hidden: true\n",
    "d/sub/3.json": '{"n": 3, "deep": true}\n',
    "p.yml": "- hosts: all\n  tasks: []\n",
  });
});
afterAll(() => removeDir(dir));

/** A context for a task written in `<dir>/tasks/main.yml` of a playbook in `<dir>`. */
function ctx(): ModuleContext {
  return { ...coreContext({ playbook_dir: dir }), taskDir: path.join(dir, "tasks") };
}

describe("include_vars", () => {
  it("finds a file as Ansible does: vars/ of the task's dir, the task's dir, then the playbook's", async () => {
    expect(await includeVarsModule.run({ file: "in-task-vars.yml" }, ctx(), host)).toEqual({
      facts: { where: "task vars dir" },
      ansible_included_var_files: [path.join(dir, "tasks/vars/in-task-vars.yml")],
    });
    expect(await includeVarsModule.run({ file: "v.yml", name: "cfg" }, ctx(), host)).toEqual({
      facts: { cfg: { a: 1, list: ["x", "y"] } },
      ansible_included_var_files: [path.join(dir, "vars/v.yml")],
    });
  });

  it("fails with Ansible's words for a missing file and for a file that is not a mapping", async () => {
    const missing = await includeVarsModule.run({ file: "nope.yml" }, ctx(), host);
    expect(missing.failed).toBe(true);
    expect(missing.message).toBe(
      `Could not find or access 'nope.yml'\nSearched in:\n\t${dir}/tasks/vars/nope.yml\n\t${dir}/tasks/nope.yml\n\t` +
        `${dir}/vars/nope.yml\n\t${dir}/nope.yml on the Ansible Controller.\n` +
        "If you are using a module and expect the file to exist on the remote, see the remote_src option",
    );
    const scalar = await includeVarsModule.run({ file: "scalar.yml" }, ctx(), host);
    expect(scalar).toMatchObject({
      failed: true,
      message: `${dir}/scalar.yml must be stored as a dictionary/hash`,
    });
  });

  it("names the line and column of a file that does not parse", async () => {
    const err = await includeVarsModule.run({ file: "broken.yml" }, ctx(), host).catch((e) => e);
    expect(formatError(err)).toMatch(new RegExp(`${dir}/broken.yml:\\d+:\\d+`));
  });

  it("loads a directory in name order, the later file winning, its sub-directories unless depth", async () => {
    const all = await includeVarsModule.run({ dir: "../d" }, ctx(), host);
    expect(all.facts).toEqual({ n: 3, keep: "one", deep: true, hidden: true });
    expect(all.ansible_included_var_files).toEqual(
      [".hidden.yml", "1.yml", "2.yaml", "sub/3.json"].map((f) => path.join(dir, "d", f)),
    );
    const top = await includeVarsModule.run(
      { dir: `${dir}/d`, depth: 1, files_matching: "^\\d", ignore_files: "2.yaml" },
      ctx(),
      host,
    );
    expect(top.facts).toEqual({ n: 1, keep: "one" });
  });

  it("fails on a file of the directory with another extension, unless told to skip those", async () => {
    const r = await includeVarsModule.run({ dir: `${dir}/d`, extensions: ["yml"] }, ctx(), host);
    expect(r).toMatchObject({
      failed: true,
      message: `${dir}/d/2.yaml does not have a valid extension: yml`,
    });
    const skipped = await includeVarsModule.run(
      { dir: `${dir}/d`, extensions: ["yml"], ignore_unknown_extensions: true },
      ctx(),
      host,
    );
    // Python's splitext: ".hidden.yml" has the extension "yml"
    expect(skipped.facts).toEqual({ n: 1, keep: "one", hidden: true });
    expect(await includeVarsModule.run({ dir: `${dir}/none` }, ctx(), host)).toMatchObject({
      failed: true,
      message: `${dir}/none directory does not exist`,
    });
  });

  it.each([
    ["include_vars: { file: a.yml, depth: 1 }", /file only and dir only arguments do not mix/],
    ["include_vars: { file: a.yml, hash_behaviour: merge }", /unknown argument "hash_behaviour"/],
    ["include_vars: { name: x }", /expected a file or a dir to load/],
  ])("refuses %s when the playbook is loaded, located", async (task, message) => {
    const d = await testdir({ "p.yml": `- hosts: all\n  tasks:\n    - ${task}\n` });
    const result = await validatePlaybook(path.join(d, "p.yml"), {
      registry: new ModuleRegistry([includeVarsModule]),
    });
    await removeDir(d);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0].message).toMatch(message);
    expect(result.errors[0].location).toMatchObject({ file: path.join(d, "p.yml"), line: 3 });
  });
});
