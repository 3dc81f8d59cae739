/**
 * `omit` in module arguments: dropped from mappings at any depth (a list's mappings too), kept as a
 * list item or inside text; arguments that hold no `omit` come back as the same object. The compat
 * suite (e2e/compat-methods) checks the dropping against ansible-playbook.
 */
import { describe, expect, test } from "vitest";
import { OMIT_TOKEN, removeOmit } from "../../src/template/index.js";
import { UnsafeText } from "../../src/template/unsafe.js";

describe("removeOmit", () => {
  test("arguments without omit come back as the same object, nested mappings and lists too", () => {
    const nested = { b: [1, { c: "x" }], d: { e: null } };
    const args = { a: "text", nested, list: [{ k: 1 }, "s"], unsafe: new UnsafeText("{{ x }}") };
    const out = removeOmit(args);
    expect(out).toBe(args);
    expect(out.nested).toBe(nested);
    expect(out).toEqual({
      a: "text",
      nested: { b: [1, { c: "x" }], d: { e: null } },
      list: [{ k: 1 }, "s"],
      unsafe: new UnsafeText("{{ x }}"),
    });
  });

  test("omit in a mapping inside a list is removed; what holds none is shared, the input left as it was", () => {
    const untouched = { b: [2] };
    const item = { a: 1, b: OMIT_TOKEN, c: 3 };
    const args = {
      list: [{ k: "v" }, item, OMIT_TOKEN, `x${OMIT_TOKEN}`],
      other: untouched,
      mode: OMIT_TOKEN,
    };
    const out = removeOmit(args);
    expect(out).toEqual({
      list: [{ k: "v" }, { a: 1, c: 3 }, OMIT_TOKEN, `x${OMIT_TOKEN}`],
      other: { b: [2] },
    });
    expect(Object.keys(out.list[1] as object)).toEqual(["a", "c"]);
    expect(out).not.toBe(args);
    expect(out.list[0]).toBe(args.list[0]);
    expect(out.other).toBe(untouched);
    // the input keeps its omitted values
    expect(item).toEqual({ a: 1, b: OMIT_TOKEN, c: 3 });
    expect(args.mode).toBe(OMIT_TOKEN);
  });

  test("keys keep their order around a removed one; values of classes and lists inside lists are kept as they are", () => {
    const unsafe = new UnsafeText(OMIT_TOKEN);
    const inner = [{ z: OMIT_TOKEN }];
    const out = removeOmit({
      first: 1,
      gone: OMIT_TOKEN,
      unsafe,
      lists: [inner],
      last: { deep: { x: OMIT_TOKEN } },
    });
    expect(Object.keys(out)).toEqual(["first", "unsafe", "lists", "last"]);
    expect(out.unsafe).toBe(unsafe);
    expect(out.lists[0]).toBe(inner);
    expect(out.last).toEqual({ deep: {} });
  });

  test("a value that is not a mapping is returned as given", () => {
    const list = [{ a: OMIT_TOKEN }];
    expect(removeOmit(list)).toBe(list);
    expect(removeOmit(OMIT_TOKEN)).toBe(OMIT_TOKEN);
  });
});
