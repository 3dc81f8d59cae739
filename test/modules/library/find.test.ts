/**
 * Where a user's module is found (the directories in order, `NAME` or `NAME.py`), which files are
 * run (AnsiballZ Python modules) and which are refused, and the refusal when no controller Python
 * has ansible-core.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { findLibraryModule, moduleStyle } from "../../../src/modules/library/find.js";
import { parseModuleOutput } from "../../../src/modules/library/run.js";
import { removeDir, tempDir, writeTree } from "../../support/fs.js";

const NEW = "from ansible.module_utils.basic import AnsibleModule\n";
let dir: string;

beforeAll(async () => {
  dir = await tempDir("tickless-libfind-");
  await writeTree(dir, {
    "play/library/both.py": `${NEW}# play\n`,
    "role/library/both.py": `${NEW}# role\n`,
    "role/library/roleonly": NEW,
    "cfg/onlycfg.py": NEW,
    "play/library/oldstyle.py": "print('{}')\n",
  });
}, 30_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

const dirs = () => ["play/library", "role/library", "cfg"].map((d) => path.join(dir, d));

describe("findLibraryModule", () => {
  test("the first directory that has it wins; NAME and NAME.py", () => {
    expect(findLibraryModule(dirs(), "both")).toMatchObject({ file: path.join(dir, "play/library/both.py") });
    expect(findLibraryModule(dirs(), "roleonly")).toMatchObject({
      file: path.join(dir, "role/library/roleonly"),
    });
    expect(findLibraryModule(dirs(), "onlycfg")).toMatchObject({ file: path.join(dir, "cfg/onlycfg.py") });
    expect(findLibraryModule(dirs(), "nowhere")).toEqual({ found: false });
    expect(findLibraryModule(dirs(), "../cfg/onlycfg")).toEqual({ found: false });
  });

  test("an old-style module is refused, naming its file", () => {
    const r = findLibraryModule(dirs(), "oldstyle");
    expect(r).toMatchObject({ found: true, file: path.join(dir, "play/library/oldstyle.py") });
    expect("refusal" in r && r.refusal).toContain("old-style module");
  });

  test("no Python on the controller with ansible-core: refused, saying what is missing", () => {
    const env = { ...process.env, PATH: "/nonexistent", PYTHONHOME: "/nonexistent" };
    const r = findLibraryModule(dirs(), "both", env);
    expect("refusal" in r && r.refusal).toBe(
      `${path.join(dir, "play/library/both.py")} needs ansible-core on the controller to build its payload, and no Python here imports ansible`,
    );
  });
});

test.each([
  [NEW, "new"],
  ["import ansible.module_utils.common.text\n", "new"],
  ["#!/bin/sh\n# WANT_JSON\n", "want_json"],
  ["\u0000ELF", "binary"],
  ["print(1)\n", "old"],
] as const)("module style of %j: %s", (text, style) => {
  expect(moduleStyle(Buffer.from(text))).toBe(style);
});

describe("parseModuleOutput, as ansible-core's _parse_returned_data", () => {
  test("junk around the JSON is dropped; _ansible_ keys too; facts kept apart", () => {
    const out = 'warming up\n{"changed": true, "_ansible_no_log": false, "ansible_facts": {"x": 1}}\nbye\n';
    expect(parseModuleOutput(out, "", 0)).toEqual({ changed: true, facts: { x: 1 } });
  });

  test("a non-zero rc in the result fails it when it says nothing of failed", () => {
    expect(parseModuleOutput('{"rc": 3}', "", 0)).toEqual({ rc: 3, failed: true });
    expect(parseModuleOutput('{"rc": 3, "failed": false}', "", 0)).toEqual({ rc: 3, failed: false });
  });

  test("no JSON: MODULE FAILURE with the output and the exit code", () => {
    expect(parseModuleOutput("oops\n", "Traceback (most recent call last):\n", 1)).toEqual({
      failed: true,
      module_stdout: "oops\n",
      module_stderr: "Traceback (most recent call last):\n",
      exception: "Traceback (most recent call last):\n",
      msg: "MODULE FAILURE\nSee stdout/stderr for the exact error",
      rc: 1,
    });
  });
});
