import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ParseError } from "../../src/errors.js";
import { loadInventory } from "../../src/inventory/index.js";
import { lines, testdir } from "../support/fs.js";

interface BadCase {
  what: string;
  files: Record<string, string>;
  /** The -i argument, relative to the fixture directory. */
  source?: string;
  code: string;
  /** The file holding the error, relative to the fixture directory, with line:column. */
  at: string;
  message: RegExp;
  hint: RegExp;
}

const CASES: BadCase[] = [
  {
    what: "hosts written as a list",
    files: {
      "hosts.yml": lines(
        "all:",
        "  children:",
        "    web:",
        "      hosts:",
        "        - web1",
        "        - web2",
      ),
    },
    code: "INVENTORY",
    at: "hosts.yml:5:9",
    message: /expected a mapping of host names, got a list/,
    hint: /hosts: \{web1: \{\}\}/,
  },
  {
    what: "a misspelt group key",
    files: { "hosts.yml": lines("all:", "  hosts:", "    h1:", "  childern:", "    web: {}") },
    code: "INVENTORY",
    at: "hosts.yml:4:3",
    message: /unknown key `childern` in group `all`; did you mean `children`\?/,
    hint: /only `hosts`, `children` and `vars`/,
  },
  {
    what: "a variable written at group level",
    files: { "hosts.yml": lines("web:", "  hosts: {w1: }", "  ntp_server: 10.0.0.1") },
    code: "INVENTORY",
    at: "hosts.yml:3:3",
    message: /unknown key `ntp_server` in group `web`$/,
    hint: /under `vars:`/,
  },
  {
    what: "host vars that are a string",
    files: { "hosts.yml": lines("all:", "  hosts:", "    web1: 10.0.0.1") },
    code: "INVENTORY",
    at: "hosts.yml:3:11",
    message: /host `web1` must map to a mapping of its variables/,
    hint: /ansible_host: 10.0.0.1/,
  },
  {
    what: "vars written as a list",
    files: { "hosts.yml": lines("all:", "  vars:", "    - a: 1") },
    code: "INVENTORY",
    at: "hosts.yml:3:5",
    message: /expected a mapping of variables, got a list/,
    hint: /vars: \{/,
  },
  {
    what: "children written as a list",
    files: { "hosts.yml": lines("all:", "  children: [web, db]") },
    code: "INVENTORY",
    at: "hosts.yml:2:13",
    message: /expected a mapping of child group names/,
    hint: /children: \{web:/,
  },
  {
    what: "a group that is a string",
    files: { "hosts.yml": lines("all:", "  children:", "    web: w1") },
    code: "INVENTORY",
    at: "hosts.yml:3:10",
    message: /group `web` must be a mapping/,
    hint: /web: \{hosts:/,
  },
  {
    what: "a top level that is a list",
    files: { "hosts.yml": lines("# hosts", "- web1", "- web2") },
    code: "INVENTORY",
    at: "hosts.yml:2:1",
    message: /an inventory must be a mapping of group names/,
    hint: /all:/,
  },
  {
    what: "a group loop",
    files: { "hosts.yml": lines("a:", "  children:", "    b:", "      children:", "        a:") },
    code: "INVENTORY",
    at: "hosts.yml:5:9",
    message: /group `a` cannot be a child of `b`: that makes a loop/,
    hint: /may not contain itself/,
  },
  {
    what: "a bad host range",
    files: { "hosts.yml": lines("all:", "  hosts:", "    web[1:a]:") },
    code: "INVENTORY",
    at: "hosts.yml:3:5",
    message: /bad host range `\[1:a\]`/,
    hint: /web\[01:10\]/,
  },
  {
    what: "bad YAML indentation",
    files: { "hosts.yml": lines("all:", "  hosts:", "    h1: {}", "   h2: {}") },
    code: "YAML_SYNTAX",
    at: "hosts.yml:4:1",
    message: /YAML syntax error/,
    hint: /./,
  },
  {
    what: "a tab for indentation",
    files: { "hosts.yml": lines("all:", "\thosts:") },
    code: "YAML_SYNTAX",
    at: "hosts.yml:2:1",
    message: /YAML syntax error/,
    hint: /tabs/,
  },
  {
    what: "a duplicate host key",
    files: { "hosts.yml": lines("all:", "  hosts:", "    h1: {}", "    h1: {a: 1}") },
    code: "YAML_SYNTAX",
    at: "hosts.yml:4:5",
    message: /YAML syntax error/,
    hint: /only once/,
  },
  {
    what: "a group_vars file that is a list",
    files: {
      "hosts.yml": lines("web:", "  hosts: {w1: }"),
      "group_vars/web.yml": lines("# vars", "- ntp: 1"),
    },
    code: "INVENTORY",
    at: "group_vars/web.yml:2:1",
    message: /expected a mapping of variables, got a list/,
    hint: /isolated_cpus: 4/,
  },
  {
    what: "bad YAML in a host_vars directory",
    files: {
      "hosts.yml": lines("web:", "  hosts: {w1: }"),
      "host_vars/w1/main.yml": lines("a: 1", "b: [1, 2"),
    },
    code: "YAML_SYNTAX",
    at: "host_vars/w1/main.yml:3:1",
    message: /YAML syntax error/,
    hint: /./,
  },
  {
    what: "an INI inventory",
    files: { hosts: lines("[web]", "w1 ansible_host=10.0.0.1") },
    source: "hosts",
    code: "INVENTORY",
    at: "hosts:1:1",
    message: /INI inventories are not supported/,
    hint: /ansible-inventory -i hosts --list --yaml/,
  },
  {
    what: "a missing file",
    files: {},
    source: "nope.yml",
    code: "FILE_NOT_FOUND",
    at: "nope.yml",
    message: /inventory not found: .*nope\.yml/,
    hint: /-i localhost,/,
  },
  {
    what: "a directory without an inventory",
    files: { "inv/README": "x" },
    source: "inv",
    code: "INVENTORY",
    at: "inv",
    message: /no inventory file in directory/,
    hint: /hosts\.yml/,
  },
];

describe("bad inventories", () => {
  it.each(CASES)("$what", async ({ files, source, code, at, message, hint }) => {
    const dir = await testdir(files);
    const error = await loadInventory(join(dir, source ?? "hosts.yml")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ParseError);
    const e = error as ParseError;
    const where = [e.location?.file.slice(dir.length + 1), e.location?.line, e.location?.column].filter(
      (p) => p !== undefined,
    );
    expect({ code: e.code, at: where.join(":") }).toEqual({ code, at });
    expect(e.message).toMatch(message);
    expect(e.hint).toMatch(hint);
  });
});
