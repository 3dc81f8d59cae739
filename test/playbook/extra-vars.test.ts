import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseExtraVars } from "../../src/playbook/index.js";
import { testdir } from "../support/fs.js";

describe("parseExtraVars", () => {
  test("key=value words are split as Ansible splits them and stay strings", async () => {
    expect(await parseExtraVars(['port=6379 msg="hello world" empty=', "path=$HOME/x"])).toEqual({
      port: "6379",
      msg: "hello world",
      empty: "",
      path: "$HOME/x",
    });
  });

  test("JSON and YAML flow mappings keep their types", async () => {
    expect(await parseExtraVars(['{"port": 6379, "on": true, "list": [1, 2]}', "{a: yes, b: 0644}"])).toEqual(
      {
        port: 6379,
        on: true,
        list: [1, 2],
        a: true,
        b: 0o644,
      },
    );
  });

  test("@files are relative to cwd, and later values win", async () => {
    const dir = await testdir({ "vars.yml": "port: 1\nname: redis\n", "more.json": '{"port": 2}' });
    expect(await parseExtraVars(["@vars.yml", "@more.json", "name=other"], dir)).toEqual({
      port: 2,
      name: "other",
    });
    expect(await parseExtraVars([`@${join(dir, "vars.yml")}`, "port=3"])).toEqual({
      port: "3",
      name: "redis",
    });
  });

  test("an error names the bad word, not the other values (they may be secrets)", async () => {
    const err = await parseExtraVars(["password=hunter2 oops"]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "EXTRA_VARS" });
    expect((err as Error).message).toContain('"oops"');
    expect((err as Error).message).not.toContain("hunter2");
    const json = await parseExtraVars(['{"password": "hunter2",']).catch((e: unknown) => e);
    expect((json as Error).message).not.toContain("hunter2");
  });

  test.each([
    ["justaword", "EXTRA_VARS", "justaword"],
    ["1port=2", "EXTRA_VARS", "1port=2"],
    ["a=1 | b=2", "EXTRA_VARS", '"|" is not name=value'],
    ["{broken", "EXTRA_VARS", "not valid JSON or YAML"],
    ["", "EXTRA_VARS", "needs a value"],
    ["@does-not-exist.yml", "FILE_NOT_FOUND", "does-not-exist.yml"],
  ])("%j is rejected with %s", async (value, code, named) => {
    const err = await parseExtraVars([value], "/nonexistent-dir").catch((e: unknown) => e);
    expect(err).toMatchObject({ code });
    expect((err as Error).message).toContain(named);
    expect((err as { hint?: string }).hint).toBeTruthy();
    expect((err as Error).message).not.toContain("\n");
  });
});
