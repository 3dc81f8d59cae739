import { describe, expect, test } from "vitest";
import { parsePointer, parseYaml } from "../../src/playbook/yaml.js";

describe("parseYaml", () => {
  test("reads YAML 1.1 as PyYAML does", () => {
    const { value } = parseYaml(
      "a: 0644\nb: yes\nc: no\nd: on\ne: y\nf: n\ng: 2024-01-02\nh: '0644'\ni: 0x1f\n",
      "f.yml",
    );
    expect(value).toEqual({
      a: 420,
      b: true,
      c: false,
      d: true,
      e: "y",
      f: "n",
      g: "2024-01-02",
      h: "0644",
      i: 31,
    });
  });

  test("merge keys and anchors resolve", () => {
    const { value, locate } = parseYaml("base: &b { x: 1 }\nother:\n  <<: *b\n  y: 2\n", "m.yml");
    expect(value).toEqual({ base: { x: 1 }, other: { x: 1, y: 2 } });
    expect(locate(["other", "y"])).toEqual({ file: "m.yml", line: 4, column: 3 });
  });

  test("locates keys and values by path or JSON pointer, falling back to the deepest node", () => {
    const src = parseYaml("- hosts: all\n  tasks:\n    - name: a\n      whn: x\n", "p.yml");
    expect(src.locate("/0/tasks/0/whn")).toEqual({ file: "p.yml", line: 4, column: 7 });
    expect(src.locate([0, "tasks", 0, "whn"], "value")).toEqual({ file: "p.yml", line: 4, column: 12 });
    expect(src.locate([0, "tasks", 0])).toEqual({ file: "p.yml", line: 3, column: 7 });
    expect(src.locate([0, "tasks", 0, "missing"])).toEqual({ file: "p.yml", line: 3, column: 7 });
    expect(src.locate([])).toEqual({ file: "p.yml", line: 1, column: 1 });
  });

  test("JSON pointers unescape ~1 and ~0", () => {
    expect(parsePointer("/a~1b/c~0d/0")).toEqual(["a/b", "c~d", "0"]);
    expect(parsePointer("")).toEqual([]);
  });

  test("syntax errors are located ParseErrors with a hint, in one paragraph", () => {
    expect(() => parseYaml("a: [1, 2\n", "s.yml")).toThrowError(
      expect.objectContaining({ code: "YAML_SYNTAX", location: { file: "s.yml", line: 2, column: 1 } }),
    );
    try {
      parseYaml("a:\n\t- b\n", "t.yml");
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: "YAML_SYNTAX", hint: "indent with spaces, never tabs" });
      expect((err as Error).message).not.toContain("\n");
    }
  });

  test("an unquoted {{ template }} value is refused with a quoting hint", () => {
    expect(() => parseYaml("- debug: { msg: {{ x }} }\n", "q.yml")).toThrowError(
      expect.objectContaining({
        code: "YAML_SYNTAX",
        hint: expect.stringContaining("quote values that start with {{"),
      }),
    );
    expect(parseYaml('msg: "{{ x }}"\n', "q.yml").value).toEqual({ msg: "{{ x }}" });
  });
});
