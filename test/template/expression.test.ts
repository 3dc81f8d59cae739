import { describe, expect, it } from "vitest";
import { ParseError } from "../../src/errors.js";
import { checkExpression, evaluate, evaluateCondition } from "../../src/template/index.js";

const loc = { file: "site.yml", line: 30, column: 13 };

function thrown(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (err) {
    return err as ParseError;
  }
  throw new Error("expected an error");
}

const vars = {
  n: 3,
  s: "Hello World",
  csv: "a,b,,c",
  yes: "yes",
  list: [3, 1, 3, 2],
  empty: [],
  obj: { a: 1, b: { c: "deep" } },
  none_val: null,
  result: { rc: 0, stdout: "ok\n", stdout_lines: ["ok"], changed: true, failed: false },
  bad: { rc: 2, failed: true, changed: false },
  skipped_result: { skipped: true, changed: false },
  ansible_facts: { processor_count: 8, distribution: "Debian" },
  isolated: "2-5",
  mask: "3c",
  root: "{{ base }}/x",
  base: "/srv",
};

describe("evaluate: operators", () => {
  it.each([
    ["n == 3", true],
    ["n != 3", false],
    ["n > 2 and n < 4", true],
    ["n > 5 or n == 3", true],
    ["not n == 4", true],
    ["not n == 4 and n == 5", false],
    ["not (n == 3)", false],
    ["n >= 3 && n <= 3", true],
    ["!(n == 3) || true", true],
    ["n + 2 * 3", 9],
    ["n % 2", 1],
    ["n // 2", 1],
    ["'a' ~ n", "a3"],
    ["n == '3'", false],
    ["list == [3, 1, 3, 2]", true],
    ["obj.b == {'c': 'deep'}", true],
    ["n > 2 ? 'big' : 'small'", "big"],
  ])("%s → %j", (expression, expected) => {
    expect(evaluate(expression, vars)).toEqual(expected);
  });

  it.each([
    ["2 in list", true],
    ["5 in list", false],
    ["5 not in list", true],
    ["'World' in s", true],
    ["'a' in obj", true],
    ["'z' not in obj", true],
    ["'ok' in result.stdout", true],
    ["'not in' in 'x not in y'", true],
  ])("membership: %s → %j", (expression, expected) => {
    expect(evaluate(expression, vars)).toBe(expected);
  });

  it.each([
    ["true", true],
    ["True", true],
    ["False", false],
    ["none_val == None", true],
    ["none_val == none", true],
  ])("literals: %s → %j", (expression, expected) => {
    expect(evaluate(expression, vars)).toBe(expected);
  });
});

describe("evaluate: lookups", () => {
  it("reads dotted and bracket paths", () => {
    expect(evaluate("obj.b.c", vars)).toBe("deep");
    expect(evaluate("obj['b']['c']", vars)).toBe("deep");
    expect(evaluate("list[1]", vars)).toBe(1);
    expect(evaluate("ansible_facts.processor_count > 4", vars)).toBe(true);
    expect(evaluate("result.stdout_lines[0] == 'ok'", vars)).toBe(true);
  });

  it("renders vars that hold templates when read", () => {
    expect(evaluate("root", vars)).toBe("/srv/x");
    expect(evaluate("root == base ~ '/x'", vars)).toBe(true);
  });

  it("returns plain data for objects", () => {
    const out = evaluate("obj", vars);
    expect(out).toEqual({ a: 1, b: { c: "deep" } });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it("makes a missing attribute of a mapping an error, as Ansible's, unless a guard reads it", () => {
    for (const expr of ["obj.nope", "obj.nope.deeper", "obj['nope']", "'x' in obj.nope", "obj.nope == 1"]) {
      const err = thrown(() => evaluateCondition(expr, vars, loc));
      expect(err).toBeInstanceOf(ParseError);
      expect(err.code).toBe("UNDEFINED_VARIABLE");
      expect(err.message).toContain("'dict object' has no attribute 'nope'");
      expect(err.location).toEqual(loc);
    }
    expect(evaluate("obj.nope is defined", vars)).toBe(false);
    expect(evaluate("obj.nope.deeper is not defined", vars)).toBe(true);
    expect(evaluate("obj.nope | default(3)", vars)).toBe(3);
    expect(evaluate("(obj.nope | default({})).x is defined", vars)).toBe(false);
  });

  it("makes an undefined top-level name an error naming it, with location and hint", () => {
    const err = thrown(() => evaluate("reslt.rc == 0", vars, loc));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.code).toBe("UNDEFINED_VARIABLE");
    expect(err.message).toBe(`undefined variable "reslt" in expression: 'reslt' is undefined`);
    expect(err.location).toEqual(loc);
    expect(err.hint).toContain('did you mean "result"');
  });

  it("finds undefined names inside operators and transform arguments too", () => {
    expect(thrown(() => evaluate("n == 3 and missing_x > 1", vars)).message).toContain('"missing_x"');
    expect(thrown(() => evaluate("list|join(sep_missing)", vars)).message).toContain('"sep_missing"');
    expect(thrown(() => evaluate("[1, ghost]", vars)).code).toBe("UNDEFINED_VARIABLE");
  });

  it("treats a var whose template uses an undefined variable as undefined under a guard", () => {
    const broken = { ...vars, half: "{{ nowhere }}/x" };
    expect(evaluate("half is defined", broken)).toBe(false);
    expect(evaluate("half|default('fallback')", broken)).toBe("fallback");
    const err = thrown(() => evaluate("half == 'x'", broken, loc));
    expect(err.code).toBe("UNDEFINED_VARIABLE");
    expect(err.message).toBe(`undefined variable "nowhere" in template: 'nowhere' is undefined`);
    expect(err.location).toEqual(loc);
    expect(evaluate("root is defined", vars)).toBe(true);
  });

  it("short-circuits, so a guard protects what follows", () => {
    expect(evaluate("missing is defined and missing.x > 1", vars)).toBe(false);
    expect(evaluate("n == 4 and missing", vars)).toBe(false);
  });
});

describe("evaluate: tests", () => {
  it.each([
    ["n is defined", true],
    ["missing is defined", false],
    ["missing is not defined", true],
    ["missing is undefined", true],
    ["n is undefined", false],
    ["missing.deep.path is defined", false],
    ["obj.b is defined", true],
    ["obj.zz is not defined", true],
    ["none_val is none", true],
    ["none_val is defined", true],
    ["result is succeeded", true],
    ["result is success", true],
    ["result is failed", false],
    ["bad is failed", true],
    ["bad is not failed", false],
    ["result is changed", true],
    ["bad is changed", false],
    ["skipped_result is skipped", true],
    ["result is not skipped", true],
    ["s is match('Hel+o')", true],
    ["s is match('World')", false],
    ["s is search('World')", true],
    ["s is string", true],
    ["n is number", true],
    ["obj is mapping", true],
    ["list is sequence", true],
    ["empty is falsy", true],
    ["not missing is defined", true],
    ["'x is defined' == 'x is defined'", true],
  ])("%s → %j", (expression, expected) => {
    expect(evaluate(expression, vars)).toBe(expected);
  });

  it("rejects a result test on something that is not a result", () => {
    const err = thrown(() => evaluate("n is failed", vars, loc));
    expect(err.code).toBe("EXPRESSION");
    expect(err.message).toContain('"failed" test');
    expect(err.location).toEqual(loc);
  });

  it("renders a list's elements when they are read, as a mapping's values", () => {
    const listVars = { big: ["{{ nope }}", "x", { k: "{{ n2 }}" }], n2: 5 };
    expect(evaluate("big | length", listVars)).toBe(3);
    expect(evaluate("big[1] == 'x' and big[2].k == 5", listVars)).toBe(true);
    expect(thrown(() => evaluate("big[0] == 'x'", listVars, loc)).message).toContain("nope");
    expect(thrown(() => evaluate("big | join(',')", listVars, loc)).message).toContain("nope");
  });

  it("names the variable a result test was given, never its value", () => {
    const secretVars = { api_token: "tok-9f8e7d6c5b4a", creds: { token: "tok-1a2b3c4d" } };
    for (const [expression, name] of [
      ["api_token is failed", "api_token"],
      ["api_token is not succeeded", "api_token"],
      ["creds.token is changed", "creds.token"],
    ]) {
      const err = thrown(() => evaluate(expression, secretVars, loc));
      expect(err.message).toContain(`"${name}": the "`);
      expect(err.message).toContain("needs a registered result, not a string");
      expect(`${err.message} ${err.hint}`).not.toContain("tok-");
    }
  });
});

describe("evaluate: filters", () => {
  it.each([
    ["missing|default(false)", false],
    ["missing|default('x')", "x"],
    ["n|default(9)", 3],
    ["missing.deep|default(1)", 1],
    ["missing|d(2)", 2],
    ["''|default('fallback', true)", "fallback"],
    ["yes|bool", true],
    ["'no'|bool", false],
    ["missing|default(false)|bool", false],
    ["'42'|int + 1", 43],
    ["'0x1f'|int", 0],
    ["'0x1f'|int(0, 16)", 31],
    ["'3.9'|int", 3],
    ["'junk'|int", 0],
    ["'1.5'|float", 1.5],
    ["n|string", "3"],
    ["true|string", "True"],
    ["list|length", 4],
    ["s|length", 11],
    ["obj|length", 2],
    ["s|lower", "hello world"],
    ["s|upper", "HELLO WORLD"],
    ["'  pad  '|trim", "pad"],
    ["csv|split(',')", ["a", "b", "", "c"]],
    ["s|split", ["Hello", "World"]],
    ["list|join(',')", "3,1,3,2"],
    ["list|join", "3132"],
    ["list|first", 3],
    ["list|last", 2],
    ["list|unique", [3, 1, 2]],
    ["obj|keys", ["a", "b"]],
    ["obj.b|values", ["deep"]],
    ["list|min", 1],
    ["list|max", 3],
    ["list|sum", 9],
    ["isolated|cpumask", "3c"],
    ["isolated|cpumask(16)", "003c"],
    ["mask|mask_to_cpulist", "2-5"],
    ["mask|cpulist('mask')", "2-5"],
    ["'10'|cpulist", "10"],
    ["'5,3,4'|cpulist", "3-5"],
    ["s|regex_search('W\\\\w+')", "World"],
    ["s|regex_search('zzz')", null],
    ["s|regex_replace('(\\\\w+) (\\\\w+)', '\\\\2 \\\\1')", "World Hello"],
    ["result.stdout|trim == 'ok'", true],
    ["(list|length) > 3", true],
  ])("%s → %j", (expression, expected) => {
    expect(evaluate(expression, vars)).toEqual(expected);
  });
});

describe("evaluate: syntax and wrappers", () => {
  it("strips a whole-expression {{ }} wrapper", () => {
    expect(evaluate("{{ n == 3 }}", vars)).toBe(true);
    expect(evaluateCondition("{{ result is changed }}", vars)).toBe(true);
  });

  it("reports syntax errors as EXPRESSION with the expression, location and hint", () => {
    const err = thrown(() => evaluate("n ==", vars, loc));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.code).toBe("EXPRESSION");
    expect(err.message).toContain('"n =="');
    expect(err.location).toEqual(loc);
    expect(err.hint).toContain("is defined");
  });

  it.each(["n == = 3", "(n", "n @ 2", ""])("checkExpression rejects %j", (bad) => {
    expect(thrown(() => checkExpression(bad, loc)).code).toBe("EXPRESSION");
  });

  it("checkExpression rejects unknown filters and tests, without needing vars", () => {
    expect(thrown(() => checkExpression("x|lenght")).message).toContain('unknown filter "lenght"');
    expect(thrown(() => checkExpression("x is definde")).message).toContain('unknown test "definde"');
    expect(thrown(() => checkExpression("foo(1)")).code).toBe("EXPRESSION");
    expect(() => checkExpression("undefined_is_fine_here is defined and y|bool")).not.toThrow();
  });

  it.each([
    [
      "lookup('password', '/tmp/pw')",
      'the lookup plugin "password" is',
      /does not generate or store passwords/,
    ],
    ["query('ini', 'k section=s file=a.ini') | first", 'the lookup plugin "ini" is', /lookup\('file'/],
    ["q('nope', 'date')", 'the lookup plugin "nope" is', /runs the lookup plugins .*env, file/],
    ["lookup('community.general.redis', 'k')", 'the lookup plugin "community.general.redis" is', /register/],
    ["lookup(name, 'x')", "a lookup plugin named by a variable is", /quoted string/],
  ])("refuses %s, naming the plugin and what to write instead", (expr, what, hint) => {
    const err = thrown(() => checkExpression(expr, loc));
    expect(err.code).toBe("EXPRESSION");
    expect(err.message).toContain(`${what} not supported`);
    expect(err.hint).toMatch(hint);
    expect(err.location).toEqual(loc);
  });
});

describe("evaluateCondition", () => {
  it("passes booleans through and uses Python truthiness", () => {
    expect(evaluateCondition(true, {})).toBe(true);
    expect(evaluateCondition(false, {})).toBe(false);
    expect(evaluateCondition("empty", vars)).toBe(false);
    expect(evaluateCondition("list", vars)).toBe(true);
    expect(evaluateCondition("{}", vars)).toBe(false);
    expect(evaluateCondition("''", vars)).toBe(false);
    expect(evaluateCondition("result.rc == 0 and 'ok' in result.stdout", vars)).toBe(true);
  });
});

describe("evaluate: signs, indexed brackets and slices, as Jinja parses them", () => {
  it.each([
    ["[1, -2]", [1, -2]],
    ["range(3, -1, -1) | list", [3, 2, 1, 0]],
    ["-n", -3],
    ["-(n + 1)", -4],
    ["-list[0] | abs", 3],
    ["-(list | first) | abs", 3],
    ["-2 ** 2", 4],
    ["n-1", 2],
    ["list | length - 1", 3],
    ["(list | sort)[-1]", 3],
    ["(obj).b.c", "deep"],
    ["[1, 2][1]", 2],
    ["{'k': -1}['k']", -1],
    ["list[1:]", [1, 3, 2]],
    ["list[::-1]", [2, 3, 1, 3]],
    ["list[-2:]", [3, 2]],
    ["s[:5]", "Hello"],
    ["s[::-1][:5]", "dlroW"],
    ["list[9:]", []],
    ["list[1:3:1] + list[:1]", [1, 3, 3]],
  ])("%s → %j", (expr, want) => {
    expect(evaluate(expr, vars)).toEqual(want);
  });

  it.each([
    ["-s", "bad operand type for unary -: 'str'"],
    ["list[::0]", "slice step cannot be zero"],
    ["obj[1:]", "unhashable type: 'slice'"],
    ["n[1:]", "'int' object is not subscriptable"],
  ])("%s fails: %s", (expr, why) => {
    expect(thrown(() => evaluate(expr, vars, loc)).message).toContain(why);
  });
});
