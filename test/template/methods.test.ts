/**
 * Python's methods in expressions: values as Python 3 gives them (the compat suite checks the
 * common ones against ansible-playbook), Python's error words, and what is refused before the run.
 */
import { describe, expect, test } from "vitest";
import { checkExpression, evaluate } from "../../src/template/index.js";
import { literalValue } from "../../src/template/python.js";

const VARS = { s: "a b c", d: { k: "v" }, xs: [1, 2] };

describe("Python's values", () => {
  test.each([
    ["s.rsplit(None, 1)", ["a b", "c"]],
    ["' a,b '.split(',', 0)", [" a,b "]],
    ["'a\tb'.split()", ["a", "b"]],
    ["'ab'.center(6, '-')", "--ab--"],
    ["'abc'.center(4)", "abc "],
    ["'{:>8.3f}'.format(3.14159)", "   3.142"],
    ["'{:+d}'.format(5)", "+5"],
    ["'{:e}'.format(12345.678)", "1.234568e+04"],
    ["'{0[1]}-{x[k]}'.format([1, 2], x=d)", "2-v"],
    ["'{:%}'.format(0.25)", "25.000000%"],
    ["'{:b}'.format(5)", "101"],
    ["'Hello'.find('l', 3)", 3],
    ["'tEST'.swapcase()", "Test"],
    ["'x'.zfill(3)", "00x"],
    ["s.split(maxsplit=1)", ["a", "b c"]],
    ["d.get('k') ~ d.get('nope', '-')", "v-"],
    ["xs.count(2) + xs.index(2)", 2],
    ["('a', 1)", ["a", 1]],
    ["s.upper().split()[0]", "A"],
  ])("%s", (expression, want) => {
    expect(evaluate(expression, VARS)).toEqual(want);
  });

  test("a tuple in text that reads as a list is one (literal_eval)", () => {
    expect(literalValue("[('a', 1), ('b', 2)]")).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
  });
});

describe("Python's errors, when the expression runs", () => {
  test.each([
    ["s.split(',', 1, 2)", "split() takes at most 2 arguments (3 given)"],
    ["s.split(nope=1)", "split() got an unexpected keyword argument 'nope'"],
    ["s.upper(1)", "upper() takes at most 0 arguments (1 given)"],
    ["s.startswith()", "startswith() takes at least 1 argument (0 given)"],
    ["s.center(5, 'ab')", "center() argument 2 must be a unicode character"],
    ["'{}{}'.format(1)", "Replacement index 1 out of range for positional args tuple"],
    ["'{:d}'.format('a')", "Unknown format code 'd' for object of type 'str'"],
    ["'{:=5}'.format(1)", 'the format spec "=5" is not supported'],
    ["xs.items()", "'list object' has no attribute 'items'"],
    ["d.split()", "'dict object' has no attribute 'split'"],
  ])("%s", (expression, message) => {
    expect(() => evaluate(expression, VARS)).toThrow(message);
  });
});

describe("refused before the run", () => {
  test.each([
    ["xs.append(3)", ".append() changes the value it is called on", "xs + [item]"],
    ["d.update({'a': 1})", ".update() changes the value it is called on", "combine"],
    ["d.setdefault('a', 1)", ".setdefault() changes the value", "combine"],
    ["xs.sort()", ".sort() changes the value", "xs | sort"],
    ["s.partition(' ')", "the method .partition() is not supported", "filter"],
    ["template_mtime.strftime('%Y')", "the methods of a datetime are not supported", "print it whole"],
    ["s.startswith(['a'])", "startswith first arg must be str or a tuple of str, not list", "tuple"],
  ])("%s", (expression, message, hint) => {
    let error: unknown;
    try {
      checkExpression(expression);
    } catch (err) {
      error = err;
    }
    expect(String((error as Error)?.message)).toContain(message);
    expect((error as { hint?: string }).hint).toContain(hint);
  });
});
