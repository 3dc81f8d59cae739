import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { toRunPlaybookOptions } from "../../src/cli/run.js";
import { parseRunOptions } from "../../src/cli/run-options.js";

describe("parseRunOptions", () => {
  it("has defaults for a bare playbook", () => {
    expect(parseRunOptions(["site.yml"])).toEqual({
      playbook: "site.yml",
      inventory: [],
      check: false,
      diff: false,
      limit: undefined,
      tags: [],
      skipTags: [],
      extraVars: [],
      forks: undefined,
      syntaxCheck: false,
      listHosts: false,
      listTasks: false,
      startAtTask: undefined,
      verbosity: 0,
      json: false,
      junit: undefined,
      hostKeyChecking: undefined,
      reporter: undefined,
      vaultIds: [],
      vaultPasswordFiles: [],
      askVaultPass: false,
    });
  });

  it("reads the vault options, repeatable, and -J", () => {
    const o = parseRunOptions([
      "site.yml",
      "--vault-id",
      "a@x",
      "--vault-id",
      "y",
      "--vault-password-file",
      "p",
      "-J",
    ]);
    expect([o.vaultIds, o.vaultPasswordFiles, o.askVaultPass]).toEqual([["a@x", "y"], ["p"], true]);
  });

  it("reads every option, short and long", () => {
    const o = parseRunOptions([
      "site.yml",
      "-i",
      "a.yml",
      "--inventory",
      "b,c,",
      "-C",
      "-D",
      "-l",
      "web*",
      "-t",
      "x,y",
      "--tags",
      "z",
      "--skip-tags",
      "slow , never",
      "-e",
      "a=1",
      "--extra-vars",
      "@vars.yml",
      "-e",
      '{"b": 2}',
      "-f",
      "7",
      "--start-at-task",
      "Install redis",
      "-vvv",
      "--json",
      "--junit",
      "out.xml",
      "--host-key-checking",
      "accept-new",
      "--reporter",
      "plain",
    ]);
    expect(o).toMatchObject({
      inventory: ["a.yml", "b,c,"],
      check: true,
      diff: true,
      limit: "web*",
      tags: ["x", "y", "z"],
      skipTags: ["slow", "never"],
      extraVars: ["a=1", "@vars.yml", '{"b": 2}'],
      forks: 7,
      startAtTask: "Install redis",
      verbosity: 3,
      json: true,
      junit: "out.xml",
      hostKeyChecking: "accept-new",
      reporter: "plain",
    });
    expect(
      parseRunOptions([
        "p.yml",
        "--check",
        "--diff",
        "--syntax-check",
        "--list-hosts",
        "--list-tasks",
        "-v",
        "-v",
      ]),
    ).toMatchObject({
      check: true,
      diff: true,
      syntaxCheck: true,
      listHosts: true,
      listTasks: true,
      verbosity: 2,
    });
  });

  it("reads the host lock wait and the unreachable bound, in seconds", async () => {
    const o = parseRunOptions(["p.yml", "--wait-lock", "0", "--unreachable-timeout", "7.5"]);
    expect(o).toMatchObject({ waitLock: 0, unreachableTimeout: 7.5 });
    expect(await toRunPlaybookOptions(o, "/w")).toMatchObject({ waitLock: 0, unreachableTimeout: 7.5 });
    expect(parseRunOptions(["p.yml", "--wait-lock", "30"]).waitLock).toBe(30);
  });

  it("rejects bad values with commander errors", () => {
    expect(() => parseRunOptions(["p.yml", "-f", "0"])).toThrow(CommanderError);
    expect(() => parseRunOptions(["p.yml", "--host-key-checking", "maybe"])).toThrow(
      /Allowed choices are strict, accept-new, off/,
    );
    expect(() => parseRunOptions(["p.yml", "--wait-lock", "-1"])).toThrow(/seconds \(0 or more\)/);
    expect(() => parseRunOptions(["p.yml", "--wait-lock", "soon"])).toThrow(/seconds \(0 or more\)/);
    expect(() => parseRunOptions(["p.yml", "--unreachable-timeout", "0"])).toThrow(/seconds above 0/);
    expect(() => parseRunOptions(["p.yml", "--bogus"])).toThrow(/unknown option '--bogus'/);
    expect(() => parseRunOptions([])).toThrow(/missing required argument 'playbook'/);
  });

  it("turns into the library's options, with extra vars parsed", async () => {
    const o = parseRunOptions([
      "site.yml",
      "-e",
      "a=1",
      "-e",
      '{"b": [2]}',
      "-t",
      "t1",
      "-l",
      "db",
      "-f",
      "3",
      "-C",
    ]);
    const r = await toRunPlaybookOptions(o, "/srv/play");
    expect(r).toMatchObject({
      playbook: "/srv/play/site.yml",
      inventory: undefined,
      check: true,
      limit: "db",
      tags: ["t1"],
      forks: 3,
      extraVars: { a: "1", b: [2] },
    });
  });
});
