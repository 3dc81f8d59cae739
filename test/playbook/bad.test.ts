import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { type ErrorCode, formatError, type TicklessError } from "../../src/errors.js";
import { parseExtraVars, validatePlaybook } from "../../src/playbook/index.js";
import { testRegistry } from "./helpers.js";

const BAD = join(import.meta.dirname, "fixtures", "bad");

/** fixture, code, where (`[file:]line:column`, file defaulting to the fixture), a piece of the hint. */
const PLAYBOOK_CASES: [string, ErrorCode, string, string][] = [
  ["syntax-tab.yml", "YAML_SYNTAX", "3:1", "never tabs"],
  ["syntax-unclosed-quote.yml", "YAML_SYNTAX", "5:1", "not closed"],
  ["syntax-bad-indent.yml", "YAML_SYNTAX", "5:1", "same column"],
  ["syntax-duplicate-key.yml", "YAML_SYNTAX", "4:7", "only once"],
  ["syntax-unquoted-template.yml", "YAML_SYNTAX", "4:13", "quote values that start with {{"],
  ["syntax-template-text.yml", "YAML_SYNTAX", "4:25", "quote values that start with {{"],
  ["not-a-list.yml", "SCHEMA", "1:1", "- hosts: all"],
  ["play-missing-hosts.yml", "SCHEMA", "1:3", "add hosts:"],
  ["play-unknown-key.yml", "UNKNOWN_KEY", "2:3", '"tasks"'],
  ["task-unknown-key-whn.yml", "UNKNOWN_KEY", "5:7", 'did you mean "when"?'],
  ["task-notify-number.yml", "SCHEMA", "4:15", "list of strings"],
  ["task-retries-string.yml", "SCHEMA", "4:16", "whole number"],
  ["task-async-module.yml", "SCHEMA", "4:7", "command and shell"],
  ["play-gather-facts-string.yml", "SCHEMA", "2:17", "boolean"],
  ["play-serial-word.yml", "SCHEMA", "2:11", "percentage"],
  ["play-serial-zero-percent.yml", "SCHEMA", "2:11", '"30%"'],
  ["play-strategy.yml", "SCHEMA", "2:13", "linear or free"],
  ["play-max-fail.yml", "SCHEMA", "2:24", "0 to 100"],
  ["block-unknown-key.yml", "UNKNOWN_KEY", "5:7", 'did you mean "rescue"?'],
  ["loop-control-unknown-key.yml", "UNKNOWN_KEY", "6:9", 'did you mean "label"?'],
  ["verify-unknown-key.yml", "UNKNOWN_KEY", "6:9", "command, that"],
  ["include-unknown-key.yml", "UNKNOWN_KEY", "4:7", "include_tasks"],
  ["method-append.yml", "EXPRESSION", "3:21", "set_fact"],
  ["include-args.yml", "MODULE_ARGS", "4:13", "apply: only"],
  ["unknown-module.yml", "UNKNOWN_MODULE", "4:7", 'did you mean "copy"?'],
  ["two-modules.yml", "SCHEMA", "4:7", "one task per module"],
  ["no-module.yml", "SCHEMA", "3:7", "command: uptime"],
  ["module-args-unknown.yml", "MODULE_ARGS", "4:9", 'did you mean "dest"?'],
  ["module-args-missing.yml", "MODULE_ARGS", "4:7", "add dest:"],
  ["module-args-type.yml", "MODULE_ARGS", "5:17", "backup"],
  ["module-args-enum.yml", "MODULE_ARGS", "5:16", "state"],
  ["module-args-key-value.yml", "MODULE_ARGS", "3:13", "dest=/path"],
  ["import-missing.yml", "FILE_NOT_FOUND", "3:21", "relative to the file"],
  ["import-cycle.yml", "SCHEMA", "parts/cycle-b.yml:2:17", "import itself"],
  ["import-bad-task.yml", "UNKNOWN_KEY", "parts/bad-tasks.yml:5:3", 'did you mean "when"?'],
  ["import-template.yml", "UNDEFINED_VARIABLE", "3:21", "include_tasks"],
  ["import-playbook-missing.yml", "FILE_NOT_FOUND", "1:20", "relative to the file"],
  ["unknown-handler.yml", "UNKNOWN_HANDLER", "4:15", 'did you mean "restart redis-server"?'],
  ["handler-block.yml", "SCHEMA", "4:7", "one task"],
  ["bad-register.yml", "SCHEMA", "4:17", "register: result"],
  ["bad-loop-var.yml", "SCHEMA", "6:9", "loop_var: pkg"],
  ["bad-index-var.yml", "SCHEMA", "6:9", "index_var: pkg"],
  ["action-conflict.yml", "SCHEMA", "3:15", "write the module once"],
  ["with-unsupported-lookup.yml", "UNKNOWN_KEY", "4:7", "with_items, with_list, with_dict"],
  ["with-two-loops.yml", "SCHEMA", "5:7", "keep with_items or with_sequence"],
  ["with-sequence-list-of-numbers.yml", "SCHEMA", "4:22", "list of strings"],
  ["bad-when.yml", "EXPRESSION", "4:13", "and, or, not"],
  ["bad-changed-when.yml", "EXPRESSION", "5:21", "and, or, not"],
  ["bad-verify-expression.yml", "EXPRESSION", "5:29", "and, or, not"],
  ["ignore-errors-expression.yml", "EXPRESSION", "4:22", "and, or, not"],
  ["bad-template.yml", "TEMPLATE", "4:14", "}}"],
  ["bad-template-name.yml", "TEMPLATE", "3:13", "}}"],
  ["vars-files-missing.yml", "FILE_NOT_FOUND", "4:7", "relative to the file"],
  ["vars-files-not-mapping.yml", "SCHEMA", "parts/vars-list.yml:1:1", "name: value"],
  ["vars-not-mapping.yml", "SCHEMA", "2:9", "mapping"],
  ["environment-nested.yml", "SCHEMA", "4:13", "quote the value"],
  ["environment-bad-name.yml", "SCHEMA", "8:9", "rename it, e.g. BAD_NAME"],
  ["task-not-mapping.yml", "SCHEMA", "3:7", "colon and a space"],
  ["play-roles.yml", "FILE_NOT_FOUND", "3:7", "looked in"],
  ["include-delegate-to.yml", "UNKNOWN_KEY", "5:7", "not on include_tasks"],
  ["task-local-action.yml", "UNKNOWN_KEY", "3:7", "delegate_to: localhost"],
  ["play-become-word.yml", "SCHEMA", "2:11", "boolean"],
  ["template-log-helper.yml", "TEMPLATE", "4:21", "log is not available"],
  ["yaml-alias-bomb.yml", "YAML_SYNTAX", "4:12", "fewer levels"],
  ["yaml-undefined-alias.yml", "YAML_SYNTAX", "3:11", "&redis_port"],
  ["yaml-bad-merge.yml", "YAML_SYNTAX", "5:11", "<<: *anchor"],
  ["yaml-vault.yml", "YAML_SYNTAX", "3:16", "!vault |"],
  ["yaml-unknown-tag.yml", "YAML_SYNTAX", "3:16", "standard tags"],
  ["bytes-invalid-utf8.yml", "YAML_SYNTAX", "3:16", "as UTF-8"],
  ["bytes-nul.yml", "YAML_SYNTAX", "3:17", "binary or corrupt"],
  ["vars-files-invalid-utf8.yml", "YAML_SYNTAX", "parts/vars-invalid-utf8.yml:1:14", "as UTF-8"],
];

/** `-e @fixture` cases: fixture, code, where, hint piece. */
const EXTRA_VARS_CASES: [string, ErrorCode, string, string][] = [
  ["extra-vars-list.yml", "EXTRA_VARS", "", "name: value"],
  ["extra-vars-broken.json", "EXTRA_VARS", "2:1", "not closed"],
];

function where(err: TicklessError, fixture: string): string {
  const loc = err.location;
  const file = loc?.file === join(BAD, fixture) ? "" : `${loc?.file?.replace(`${BAD}/`, "")}:`;
  return loc?.line === undefined ? "" : `${file}${loc.line}:${loc.column}`;
}

function expectOneParagraph(err: TicklessError): void {
  const text = formatError(err);
  expect(text).not.toContain("\n");
  expect(text).not.toMatch(/\bat .*:\d+:\d+\)?$/m);
  expect(text).not.toMatch(/\bat (async |new )?[\w.<>]+ \(/);
  expect(err.hint).toBeTruthy();
}

describe("bad playbooks", () => {
  test("the corpus has at least 30 fixtures", () => {
    expect(PLAYBOOK_CASES.length + EXTRA_VARS_CASES.length).toBeGreaterThanOrEqual(30);
  });

  test.each(PLAYBOOK_CASES)("%s → %s at %s", async (fixture, code, at, hint) => {
    const result = await validatePlaybook(join(BAD, fixture), { registry: testRegistry() });
    expect(result.playbook).toBeUndefined();
    expect(result.errors.map((e) => e.code)).toEqual([code]);
    const [err] = result.errors;
    expect(where(err, fixture)).toBe(at);
    expect(err.hint).toContain(hint);
    expectOneParagraph(err);
  });

  test.each(EXTRA_VARS_CASES)("-e @%s → %s", async (fixture, code, at, hint) => {
    const err = (await parseExtraVars([`@${fixture}`], BAD).catch((e: unknown) => e)) as TicklessError;
    expect(err.code).toBe(code);
    expect(err.message).toContain(fixture);
    expect(where(err, fixture)).toBe(at);
    expect(err.hint).toContain(hint);
    expectOneParagraph(err);
  });

  test.each([
    ["yaml-alias-bomb.yml", "YAML aliases expand to too many nodes (more than 1000)"],
    ["yaml-undefined-alias.yml", "undefined alias *redis_port"],
    ["yaml-bad-merge.yml", "a merge key (<<) must name a mapping or a list of mappings"],
    ["yaml-vault.yml", "!vault tags a string: the text ansible-vault encrypt_string printed"],
    ["yaml-unknown-tag.yml", "unknown YAML tag !foo"],
    ["bytes-invalid-utf8.yml", "invalid UTF-8 at byte offset 36"],
    ["bytes-nul.yml", "NUL byte at byte offset 37"],
    ["vars-files-invalid-utf8.yml", "invalid UTF-8 at byte offset 14"],
  ])("%s: %s", async (fixture, message) => {
    const { errors } = await validatePlaybook(join(BAD, fixture), { registry: testRegistry() });
    expect(errors.map((e) => e.message)).toEqual([message]);
  });

  test('unknown key "whn" — did you mean "when"?', async () => {
    const { errors } = await validatePlaybook(join(BAD, "task-unknown-key-whn.yml"), {
      registry: testRegistry(),
    });
    expect(formatError(errors[0])).toBe(
      `${join(BAD, "task-unknown-key-whn.yml")}:5:7: unknown key "whn" in task (hint: did you mean "when"?)`,
    );
  });
});
