import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ParseError } from "../../src/errors.js";
import { loadPlaybook, loadVarsFile, PlaybookErrors, validatePlaybook } from "../../src/playbook/index.js";
import { testdir } from "../support/fs.js";
import { testRegistry } from "./helpers.js";

describe("loadPlaybook", () => {
  test("collects every error, throws them together, one per line, sorted by position", async () => {
    const dir = await testdir({
      "p.yml": [
        "- hosts: all",
        "  tasks:",
        "    - command: id",
        "      whn: x",
        "    - copi: dest=/x",
        "      notify: nobody",
        "    - command: id",
        "      notify: missing handler",
        "",
      ].join("\n"),
    });
    const file = join(dir, "p.yml");
    const err = await loadPlaybook(file, { registry: testRegistry() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlaybookErrors);
    expect(err).toBeInstanceOf(ParseError);
    const errors = (err as PlaybookErrors).errors;
    expect(errors.map((e) => [e.code, e.location?.line])).toEqual([
      ["UNKNOWN_KEY", 4],
      ["UNKNOWN_MODULE", 5],
      ["UNKNOWN_HANDLER", 8],
    ]);
    expect((err as PlaybookErrors).code).toBe("UNKNOWN_KEY");
    expect((err as PlaybookErrors).location).toBeUndefined();
    const lines = (err as Error).message.split("\n");
    expect(lines[0]).toBe("3 problems:");
    expect(lines[1]).toBe(`${file}:4:7: unknown key "whn" in task (hint: did you mean "when"?)`);
    expect(lines).toHaveLength(4);
  });

  test("a single error keeps its own message, location and hint", async () => {
    const dir = await testdir({ "p.yml": "- hosts: all\n  tasks:\n    - command: id\n      whn: x\n" });
    const err = (await loadPlaybook(join(dir, "p.yml"), { registry: testRegistry() }).catch(
      (e) => e,
    )) as PlaybookErrors;
    expect(err.message).toBe('unknown key "whn" in task');
    expect(err.hint).toBe('did you mean "when"?');
    expect(err.location).toEqual({ file: join(dir, "p.yml"), line: 4, column: 7 });
  });

  test("a missing playbook is FILE_NOT_FOUND, from validatePlaybook too", async () => {
    const result = await validatePlaybook("/nonexistent/site.yml");
    expect(result.errors.map((e) => e.code)).toEqual(["FILE_NOT_FOUND"]);
    await expect(loadPlaybook("/nonexistent/site.yml")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });

  test("an import_playbook cycle is reported where the cycle closes", async () => {
    const dir = await testdir({
      "a.yml": "- import_playbook: b.yml\n",
      "b.yml": "- import_playbook: a.yml\n",
    });
    const result = await validatePlaybook(join(dir, "a.yml"), { registry: testRegistry() });
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({
      code: "SCHEMA",
      location: { file: join(dir, "b.yml"), line: 1, column: 20 },
    });
    expect(result.errors[0].message).toBe(
      `import cycle: ${join(dir, "a.yml")} → ${join(dir, "b.yml")} → ${join(dir, "a.yml")}`,
    );
  });

  test("templated notify names and handlers notified through listen raise nothing", async () => {
    const dir = await testdir({
      "p.yml": [
        "- hosts: all",
        "  tasks:",
        "    - command: id",
        '      notify: "{{ which }}"',
        "    - command: id",
        "      notify: [topic]",
        "  handlers:",
        "    - name: h",
        "      listen: topic",
        "      command: id",
        "",
      ].join("\n"),
    });
    const result = await validatePlaybook(join(dir, "p.yml"), { registry: testRegistry() });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
  });
});

describe("rules and keyword forms", () => {
  test("quoted boolean words read as booleans; duplicate handlers warn", async () => {
    const dir = await testdir({
      "p.yml": [
        "- hosts: all",
        '  gather_facts: "no"',
        '  any_errors_fatal: "yes"',
        "  tasks:",
        "    - command: id",
        '      become: "True"',
        '      run_once: "off"',
        "      notify: h",
        "  handlers:",
        "    - name: h",
        "      command: id",
        "    - name: h",
        "      command: uptime",
        "",
      ].join("\n"),
    });
    const file = join(dir, "p.yml");
    const result = await validatePlaybook(file, { registry: testRegistry() });
    expect(result.errors).toEqual([]);
    const play = result.playbook!.plays[0];
    expect([play.gatherFacts, play.anyErrorsFatal, play.tasks[0].become, play.tasks[0].runOnce]).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(result.warnings).toEqual([`${file}:12:7: handler "h" is defined twice; only the last one runs`]);
  });
});

describe("loadVarsFile", () => {
  test("a mapping loads; an empty file is {}", async () => {
    const dir = await testdir({ "v.yml": "port: 6379\nenabled: yes\n", "empty.yml": "" });
    expect(await loadVarsFile(join(dir, "v.yml"))).toEqual({ port: 6379, enabled: true });
    expect(await loadVarsFile(join(dir, "empty.yml"))).toEqual({});
  });

  test("a scalar top level is a located SCHEMA error; a missing file FILE_NOT_FOUND", async () => {
    const dir = await testdir({ "s.yml": "\n\njust text\n" });
    await expect(loadVarsFile(join(dir, "s.yml"))).rejects.toMatchObject({
      code: "SCHEMA",
      location: { file: join(dir, "s.yml"), line: 3, column: 1 },
    });
    await expect(loadVarsFile(join(dir, "none.yml"))).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });
});
