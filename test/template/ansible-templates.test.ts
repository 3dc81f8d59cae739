/**
 * Ansible expressions inside `{{ … }}` in playbook strings: the filters with the results
 * Ansible's documentation and ansible-core 2.14 give, how a rendered value is typed, and the
 * located errors for an unknown filter or an undefined variable.
 */
import { describe, expect, it } from "vitest";
import { ParseError } from "../../src/errors.js";
import { checkTemplate, evaluate, renderString, renderValue } from "../../src/template/index.js";

const loc = { file: "site.yml", line: 14, column: 9 };

const vars = {
  items: ["b", "a", "c"],
  port: 6379,
  flag: true,
  cfg: { k: 1, name: "redis" },
  users: [
    { name: "ann", uid: 1001, admin: true },
    { name: "bob", uid: 1002, admin: false },
  ],
  path: "/etc/redis/redis.conf",
  cores: [2, 3],
};

function thrown(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (err) {
    return err as ParseError;
  }
  throw new Error("expected an error");
}

describe("filters (results as ansible-core 2.14 gives them)", () => {
  it.each([
    ["missing | default('2')", "2"],
    ["'' | default('x')", ""],
    ["'' | default('x', true)", "x"],
    ["'' | d('x', boolean=true)", "x"],
    ["none | default('n')", null],
    ["items | join(',')", "b,a,c"],
    ["(items | length) + 1", 4],
    ["items | count", 3],
    ["'42' | int + 1", 43],
    ["'0x1f' | int(base=16)", 31],
    ["'x' | int", 0],
    ["'3.5' | float", 3.5],
    ["'yes' | bool", true],
    ["3 | string ~ 'x'", "3x"],
    ["[1, 'a'] | string", "[1, 'a']"],
    ["'  Hi ' | trim | upper", "HI"],
    ["'a-b-c' | replace('-', '+')", "a+b+c"],
    ["'a-b-c' | replace('-', '+', 1)", "a+b-c"],
    ["'a1b22' | regex_replace('[0-9]+', '#')", "a#b#"],
    ["'port 6379' | regex_search('[0-9]+')", "6379"],
    ["'a,b' | split(',')", ["a", "b"]],
    ["items | first", "b"],
    ["items | last", "c"],
    ["items | min", "a"],
    ["items | max", "c"],
    ["[3, 10, 2] | max", 10],
    ["items | sort", ["a", "b", "c"]],
    ["items | sort(reverse=true)", ["c", "b", "a"]],
    ["users | sort(attribute='uid', reverse=true) | map(attribute='name') | list", ["bob", "ann"]],
    ["[1, 2, 1] | unique", [1, 2]],
    ["items | union(['d', 'a'])", ["b", "a", "c", "d"]],
    ["items | difference(['a'])", ["b", "c"]],
    ["items | intersect(['a', 'z'])", ["a"]],
    ["users | map(attribute='name') | list", ["ann", "bob"]],
    ["items | map('upper') | list", ["B", "A", "C"]],
    ["[1, 2, 3, 4] | select('even') | list", [2, 4]],
    ["[1, 2, 3, 4] | reject('even') | list", [1, 3]],
    ["[0, 1, '', 'x'] | select | list", [1, "x"]],
    ["users | selectattr('admin') | map(attribute='uid') | list", [1001]],
    ["users | rejectattr('uid', 'equalto', 1001) | map(attribute='name') | first", "bob"],
    ["users | selectattr('uid', '>', 1001) | map(attribute='name') | list", ["bob"]],
    [
      "cfg | dict2items",
      [
        { key: "k", value: 1 },
        { key: "name", value: "redis" },
      ],
    ],
    ["[{'key': 'a', 'value': 1}] | items2dict", { a: 1 }],
    ["users | items2dict(key_name='name', value_name='uid')", { ann: 1001, bob: 1002 }],
    ["cfg | combine({'k': 2, 'x': true})", { k: 2, name: "redis", x: true }],
    ["{'a': {'b': 1}} | combine({'a': {'c': 2}}, recursive=true)", { a: { b: 1, c: 2 } }],
    ["{'a': {'b': 1}} | combine({'a': {'c': 2}})", { a: { c: 2 } }],
    ["cfg | to_json", '{"k": 1, "name": "redis"}'],
    ["[1, 'x', {'k': none}] | to_json", '[1, "x", {"k": null}]'],
    [
      "{'b': 1, 'a': [1, {'c': 2}]} | to_nice_json",
      '{\n    "a": [\n        1,\n        {\n            "c": 2\n        }\n    ],\n    "b": 1\n}',
    ],
    ["{'a': [1, 2], 'b': 'x'} | to_yaml", "a: [1, 2]\nb: x\n"],
    ["[1, 2] | to_yaml", "[1, 2]\n"],
    ["{'a': {'b': 1}, 'c': 'x'} | to_nice_yaml", "a:\n    b: 1\nc: x\n"],
    ["'{\"a\": [1, 2]}' | from_json", { a: [1, 2] }],
    ["'a: [1, 2]' | from_yaml", { a: [1, 2] }],
    ["flag | ternary('yes', 'no')", "yes"],
    ["none | ternary('yes', 'no', 'null')", "null"],
    ["path | basename", "redis.conf"],
    ["path | dirname", "/etc/redis"],
    ["'a b' | quote", "'a b'"],
    ["('it' ~ \"'\" ~ 's') | quote", "'it'\"'\"'s'"],
    ["'it' ~ \"'\" ~ 's' | quote", "it's"],
    ["'safe-1.0' | quote", "safe-1.0"],
    ["'hi' | b64encode", "aGk="],
    ["'aGk=' | b64decode", "hi"],
    ["'abc' | hash('sha1')", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    ["'abc' | hash('md5')", "900150983cd24fb0d6963f7d28e17f72"],
    ["range(3) | list", [0, 1, 2]],
    ["range(1, 10, 3) | list", [1, 4, 7]],
    [
      "[cfg, items, 1, 'x', flag, none] | map('type_debug') | list",
      ["dict", "list", "int", "str", "bool", "NoneType"],
    ],
  ])("%s → %j", (expression, expected) => {
    expect(evaluate(expression, vars)).toEqual(expected);
  });
});

describe("expression syntax", () => {
  it.each([
    ["'on' if flag else 'off'", "on"],
    ["'x' if port < 10 else 'y' if flag else 'z'", "y"],
    ["[1 if flag else 2, 3]", [1, 3]],
    ["'x' if missing is defined else 'y'", "y"],
    ["items.1", "a"],
    ["cfg['name'] ~ ':' ~ port", "redis:6379"],
    ["port // 2 + 2 ** 3", 3197],
    ["[1, 2] + [3]", [1, 2, 3]],
    ["{'a': port}", { a: 6379 }],
    ["not flag or 'a' in items", true],
  ])("%s → %j", (expression, expected) => {
    expect(evaluate(expression, vars)).toEqual(expected);
  });
});

describe("templates in playbook strings", () => {
  it("renders the common idiom that Handlebars alone refused", () => {
    const s = "{{ cpus | default('2') }} {{ items | join(',') }} {{ (items | length) + 1 }}";
    expect(renderValue(s, vars)).toBe("2 b,a,c 4");
  });

  it.each([
    ["{{ items | sort }}", ["a", "b", "c"]],
    ["{{ cfg | combine({'x': 1}) }}", { k: 1, name: "redis", x: 1 }],
    ["{{ port > 1 }}", true],
    ["{{ items | length }}", "3"],
    ["{{ port + 1 }}", "6380"],
    ["{{ none }}", ""],
    ["[{{ port }}, {{ port + 1 }}]", [6379, 6380]],
    ["{{ '[1, 2]' }}", [1, 2]],
    ["{{ 'True' }}", true],
    ["n={{ port }}", "n=6379"],
    ["{{ port }}", 6379],
  ])("%s is %j, as Ansible types it", (source, expected) => {
    expect(renderValue(source, vars)).toEqual(expected);
  });

  it("writes values in mixed text as Python's str() does", () => {
    const s = "cfg={{ cfg }} items={{ items }} flag={{ flag }} none={{ none }} {{ [1, 'x', none, false] }}";
    expect(renderValue(s, vars)).toBe(
      "cfg={'k': 1, 'name': 'redis'} items=['b', 'a', 'c'] flag=True none= [1, 'x', None, False]",
    );
  });

  it("keeps Handlebars forms beside expressions", () => {
    const s = '{{#if flag}}on{{else}}off{{/if}} {{join cores "-"}} {{ cores | join("+") }} {{cpumask cores}}';
    expect(renderString(s, vars)).toBe("on 2-3 2+3 c");
  });

  it("names an unknown filter at check time, located, with a did-you-mean", () => {
    const err = thrown(() => checkTemplate("x {{ items | lenght }}", loc));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toContain('unknown filter "lenght" (did you mean "length"?)');
    expect(err.location).toEqual(loc);
  });

  it("reports every unknown filter of a string when given a report, located", () => {
    const found: ParseError[] = [];
    checkTemplate("{{ items | lenght }} and {{ port | nosuch }}", loc, (e) => found.push(e as ParseError));
    expect(found.map((e) => [e.message.replace(/^.*: /, ""), e.location])).toEqual([
      ['unknown filter "lenght" (did you mean "length"?)', loc],
      ['unknown filter "nosuch"', loc],
    ]);
    const inJinja: ParseError[] = [];
    checkTemplate("{% if a | frob %}{{ b | frab }}{% endif %}", loc, (e) => inJinja.push(e as ParseError));
    expect(inJinja.map((e) => /unknown filter "(\w+)"/.exec(e.message)?.[1])).toEqual(["frob", "frab"]);
    expect(() =>
      checkTemplate("{{ items | length }} {{ port }}", loc, () => expect.fail("reported")),
    ).not.toThrow();
  });

  it("gives a template file's line and column for an expression's error", () => {
    const err = thrown(() => checkTemplate("a\nb {{ items | nosuch }}", { file: "t.hbs" }));
    expect(err.message).toContain('unknown filter "nosuch"');
    expect(err.location).toEqual({ file: "t.hbs", line: 2, column: 3 });
  });

  it("names an undefined variable, located, with a did-you-mean", () => {
    const err = thrown(() => renderValue("{{ itmes | join(',') }}", vars, loc));
    expect(err.code).toBe("UNDEFINED_VARIABLE");
    expect(err.message).toContain('"itmes"');
    expect(err.location).toEqual(loc);
    expect(err.hint).toContain('did you mean "items"');
  });

  it("says the text is not JSON or YAML without quoting it", () => {
    for (const filter of ["from_json", "from_yaml"]) {
      const err = thrown(() => renderValue(`{{ secret | ${filter} }}`, { secret: "hunter2: [" }, loc));
      expect(err.message).toContain(`${filter}: the text is not`);
      expect(`${err.message} ${err.hint}`).not.toContain("hunter2");
      expect(err.location).toEqual(loc);
    }
  });

  it("refuses a keyword argument the filter does not take", () => {
    const err = thrown(() => renderValue("{{ items | join(sep=',') }}", vars, loc));
    expect(err.message).toContain('filter "join" has no keyword argument "sep"');
    expect(err.location).toEqual(loc);
  });
});
