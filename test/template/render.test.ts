import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ParseError, TicklessError } from "../../src/errors.js";
import {
  checkTemplate,
  isTemplate,
  renderString,
  renderTemplateFile,
  renderValue,
} from "../../src/template/index.js";

const loc = { file: "play.yml", line: 12, column: 7 };

/** The error a call throws, for asserting on its fields. */
function thrown(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (err) {
    return err as ParseError;
  }
  throw new Error("expected an error");
}

async function rejection(promise: Promise<unknown>): Promise<ParseError> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: ParseError) => err,
  );
}

describe("renderString", () => {
  it("renders variables without HTML escaping", () => {
    expect(renderString("{{ a }} & {{ b.c }}", { a: "<x>", b: { c: "'q'" } })).toBe("<x> & 'q'");
  });

  it("returns strings without templates unchanged", () => {
    expect(renderString("plain {text}", {})).toBe("plain {text}");
  });

  it("indexes lists", () => {
    expect(renderString("{{ xs.[1] }}-{{ xs.[0] }}", { xs: ["a", "b"] })).toBe("b-a");
  });

  it("names an undefined variable, with the given location and a did-you-mean hint", () => {
    const err = thrown(() => renderString("{{ fake_rot }}/etc", { fake_root: "/tmp/x", other: 1 }, loc));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.code).toBe("UNDEFINED_VARIABLE");
    expect(err.message).toBe(`undefined variable "fake_rot" in template: 'fake_rot' is undefined`);
    expect(err.location).toEqual(loc);
    expect(err.hint).toContain('did you mean "fake_root"');
  });

  it("names the whole dotted path of a missing attribute", () => {
    const err = thrown(() => renderString("x {{ redis.prot }}", { redis: { port: 1 } }, loc));
    expect(err.code).toBe("UNDEFINED_VARIABLE");
    expect(err.message).toContain('"redis.prot"');
  });

  it("gives a hint to guard when nothing is close", () => {
    const err = thrown(() => renderString("{{ zzz }}", { alpha: 1 }));
    expect(err.hint).toContain("default zzz");
    expect(err.location).toBeUndefined();
  });

  it("lets default and #if see undefined variables", () => {
    expect(renderString('{{default port "6379"}}', {})).toBe("6379");
    expect(renderString('{{default port "6379"}}', { port: 7000 })).toBe("7000");
    expect(renderString("{{#if foo}}yes{{else}}no{{/if}}", {})).toBe("no");
    expect(renderString("{{#if foo.bar}}yes{{else}}no{{/if}}", { foo: {} })).toBe("no");
    expect(renderString("{{#unless foo}}none{{/unless}}", {})).toBe("none");
  });

  it("loops with #each", () => {
    expect(renderString("{{#each xs}}[{{this}}:{{@index}}]{{/each}}", { xs: ["a", "b"] })).toBe("[a:0][b:1]");
  });

  it("resolves vars that hold templates, lazily and recursively", () => {
    const vars = {
      base: "/srv",
      inventory_hostname: "h1",
      root: "{{ base }}/{{ inventory_hostname }}",
      conf: "{{ root }}/redis.conf",
      nested: { path: "{{ conf }}.d", list: ["{{ base }}", 2] },
      unused: "{{ not_defined_anywhere }}",
    };
    expect(renderString("{{ conf }}", vars)).toBe("/srv/h1/redis.conf");
    expect(renderString("{{ nested.path }} {{ nested.list.[0] }}", vars)).toBe("/srv/h1/redis.conf.d /srv");
  });

  it("reports an undefined variable met inside another variable", () => {
    const err = thrown(() => renderString("{{ root }}", { root: "{{ base }}/x" }, loc));
    expect(err.code).toBe("UNDEFINED_VARIABLE");
    expect(err.message).toContain('"base"');
    expect(err.location).toEqual(loc);
  });

  it("detects cycles with a clear error", () => {
    const err = thrown(() => renderString("{{ a }}", { a: "{{ b }}x", b: "{{ c }}", c: "{{ a }}" }, loc));
    expect(err.code).toBe("TEMPLATE");
    expect(err.message).toMatch(/refers to itself: a → b → c → a/);
    expect(err.location).toEqual(loc);
    const self = thrown(() => renderString("{{ a }}", { a: "{{ a }}" }));
    expect(self.message).toContain("refers to itself");
  });

  it("reports syntax errors as TEMPLATE errors", () => {
    const err = thrown(() => renderString("{{ foo", {}, loc));
    expect(err.code).toBe("TEMPLATE");
    expect(err.message).toMatch(/^invalid template: /);
    expect(err.hint).toBeTruthy();
    expect(thrown(() => renderString("{{#if x}}y", { x: 1 })).code).toBe("TEMPLATE");
  });

  it("reports an unknown helper as a TEMPLATE error, even in a syntax check", () => {
    const err = thrown(() => renderString("a\n{{ nohelper 1 }}", {}, { file: "t.hbs" }));
    expect(err.code).toBe("TEMPLATE");
    expect(err.message).toBe('unknown helper "nohelper"');
    expect(err.location).toEqual({ file: "t.hbs", line: 2, column: 4 });
    expect(thrown(() => checkTemplate("{{#if (basenam p)}}{{/if}}")).hint).toContain(
      'did you mean "basename"',
    );
  });

  it("does not touch the given vars", () => {
    const vars = { a: "{{ b }}", b: "1" };
    renderString("{{ a }}", vars);
    expect(vars).toEqual({ a: "{{ b }}", b: "1" });
  });
});

describe("helpers", () => {
  const vars = {
    cores: [2, 3, 4, 5],
    name: "Redis",
    obj: { a: 1, b: [true, null] },
    path: "/etc/redis/redis.conf",
    mode: "on",
    hexish: "0x1f",
  };
  it.each([
    ['{{join cores " "}}', "2 3 4 5"],
    ["{{join cores}}", "2,3,4,5"],
    ["{{json obj}}", '{"a":1,"b":[true,null]}'],
    ["{{yaml obj}}", "a: 1\nb:\n  - true\n  - null"],
    ['{{#if (eq mode "on")}}1{{else}}0{{/if}}', "1"],
    ['{{#if (ne mode "on")}}1{{else}}0{{/if}}', "0"],
    ["{{#if (and cores mode)}}1{{else}}0{{/if}}", "1"],
    ["{{#if (or missing mode)}}1{{else}}0{{/if}}", "1"],
    ["{{#if (not missing)}}1{{else}}0{{/if}}", "1"],
    ["{{cpumask cores}}", "3c"],
    ["{{cpumask cores 16}}", "003c"],
    ['{{cpumask "0-3" nr=64}}', "00000000,0000000f"],
    ['{{mask_to_cpulist "f0"}}', "4-7"],
    ['{{mask_to_cpulist "80,00000000"}}', "39"],
    ['{{cpulist "f0" "mask"}}', "4-7"],
    ['{{cpulist "3,1,2"}}', "1-3"],
    ['{{cpulist "5"}}', "5"],
    ['{{cpulist "10"}}', "10"],
    ['{{cpulist "0"}}', "0"],
    ['{{cpulist "5" "list"}}', "5"],
    ["{{cpulist cores}}", "2-5"],
    ["{{upper name}} {{lower name}}", "REDIS redis"],
    ['{{quote "it\'s a b"}}', `"it's a b"`],
    ["{{quote name}}", "Redis"],
    ["{{basename path}} {{dirname path}}", "redis.conf /etc/redis"],
    ['{{int "42"}} {{int "3.9"}} {{int hexish}} {{int hexish 16}} {{int "x"}}', "42 3 0 31 0"],
  ])("%s → %j", (source, expected) => {
    expect(renderString(source, vars)).toBe(expected);
  });

  it("cpulist never reads a hex mask unless told: a mask given as a list is a located error", () => {
    const err = thrown(() => renderString('{{cpulist "f0"}}', {}, loc));
    expect(err.message).toContain('invalid CPU list "f0"');
    expect(err.location).toEqual(loc);
    expect(thrown(() => renderString('{{cpulist "f0" "hex"}}', {}, loc)).hint).toContain("mask_to_cpulist");
  });

  it("reports a helper's own error with the location", () => {
    const err = thrown(() => renderString('{{cpumask "a-b"}}', {}, loc));
    expect(err).toBeInstanceOf(TicklessError);
    expect(err.message).toContain("invalid CPU list");
    expect(err.location).toEqual(loc);
  });
});

describe("renderValue", () => {
  const vars = {
    cores: [2, 3],
    port: 6379,
    conf: { maxmemory: "1gb", dir: "{{ base }}" },
    base: "/var/lib/redis",
    alias: "{{ cores }}",
  };

  it("returns the native value of a single {{ path }}, a number only from a lone name", () => {
    expect(renderValue("{{ cores }}", vars)).toEqual([2, 3]);
    expect(renderValue("{{ port }}", vars)).toBe(6379);
    expect(renderValue("{{conf}}", vars)).toEqual({ maxmemory: "1gb", dir: "/var/lib/redis" });
    expect(renderValue("{{ alias }}", vars)).toEqual([2, 3]);
    // a number is native only from a lone name (ansible-core's SINGLE_VAR shortcut); from a
    // longer path it went through Jinja and comes back as text, as in Ansible 2.14
    expect(renderValue("{{ cores.[1] }}", vars)).toBe("3");
  });

  it("returns the native value of a single helper call and of literals", () => {
    expect(renderValue("{{ default missing 5 }}", vars)).toBe(5);
    expect(renderValue("{{ default cores 5 }}", vars)).toEqual([2, 3]);
    expect(renderValue("{{ 42 }}", vars)).toBe(42);
    expect(renderValue("{{ cpumask cores }}", vars)).toBe("c");
  });

  it("renders strings with text around as strings", () => {
    expect(renderValue("port {{ port }}", vars)).toBe("port 6379");
    expect(renderValue(" {{ port }}", vars)).toBe(" 6379");
  });

  it("walks objects and arrays deeply and leaves other values alone", () => {
    const input = { a: ["{{ port }}", "x{{ base }}", 3, null], b: { c: "{{ cores }}", d: true } };
    expect(renderValue(input, vars)).toEqual({
      a: [6379, "x/var/lib/redis", 3, null],
      b: { c: [2, 3], d: true },
    });
    expect(input.a[0]).toBe("{{ port }}");
  });

  it("returns plain data, not live views", () => {
    const out = renderValue("{{ conf }}", vars) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"maxmemory":"1gb","dir":"/var/lib/redis"}');
  });

  it("is strict for a single path too", () => {
    const err = thrown(() => renderValue({ x: ["{{ nope.deep }}"] }, vars, loc));
    expect(err.code).toBe("UNDEFINED_VARIABLE");
    expect(err.message).toContain('"nope.deep"');
    expect(err.location).toEqual(loc);
  });
});

describe("isTemplate and checkTemplate", () => {
  it("tells templates apart", () => {
    expect(isTemplate("a {{ b }}")).toBe(true);
    expect(isTemplate("a { b }")).toBe(false);
    expect(isTemplate("{{ unclosed")).toBe(false);
    expect(isTemplate(3)).toBe(false);
  });

  it("checks syntax without vars", () => {
    expect(() => checkTemplate("{{ anything.at.all }} {{#if x}}{{/if}}", loc)).not.toThrow();
    const err = thrown(() => checkTemplate("line1\n{{#each x}}", { file: "t.j2" }));
    expect(err.code).toBe("TEMPLATE");
    expect(err.location?.file).toBe("t.j2");
  });
});

describe("renderTemplateFile", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-template-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("renders a file", async () => {
    const file = join(dir, "redis.conf.hbs");
    await writeFile(file, "port {{ port }}\n{{#each binds}}bind {{this}}\n{{/each}}");
    expect(await renderTemplateFile(file, { port: 7000, binds: ["127.0.0.1", "::1"] })).toBe(
      "port 7000\nbind 127.0.0.1\nbind ::1\n",
    );
  });

  it("points at the line and column of an undefined variable", async () => {
    const file = join(dir, "bad.hbs");
    await writeFile(file, "# header\nport {{ port }}\n  dir {{ redis_dri }}\n");
    const err = await rejection(renderTemplateFile(file, { port: 1, redis_dir: "/x" }));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.code).toBe("UNDEFINED_VARIABLE");
    expect(err.location).toEqual({ file, line: 3, column: 10 });
    expect(err.hint).toContain('did you mean "redis_dir"');
    expect(err.format()).toBe(
      `${file}:3:10: undefined variable "redis_dri" in template: 'redis_dri' is undefined (hint: ${err.hint})`,
    );
  });

  it("refuses a file that is not UTF-8 text, at the byte (never renders U+FFFD)", async () => {
    const file = join(dir, "latin1.hbs");
    await writeFile(file, Buffer.from("# caf\xe9\nport {{ port }}\n", "latin1"));
    const err = await rejection(renderTemplateFile(file, { port: 1 }));
    expect(err.code).toBe("TEMPLATE");
    expect(err.format()).toMatch(new RegExp(`^${file}:1:6: invalid UTF-8 at byte offset 5 \\(hint: .*UTF-8`));
  });

  it("reports a missing file", async () => {
    const err = await rejection(renderTemplateFile(join(dir, "nope.hbs"), {}));
    expect(err.code).toBe("FILE_NOT_FOUND");
  });
});

describe("undefined helper arguments", () => {
  it("are errors naming the variable, for helpers that do not guard", () => {
    const err = thrown(() => renderString('cores: {{join isolated_cpus " "}}', { isolated_cores: [1] }, loc));
    expect(err.code).toBe("UNDEFINED_VARIABLE");
    expect(err.message).toBe(`undefined variable "isolated_cpus" in template: 'isolated_cpus' is undefined`);
    expect(err.hint).toContain('did you mean "isolated_cores"');
    expect(err.location).toEqual(loc);
  });

  it("are found inside subexpressions and blocks, with the line in a file", () => {
    const err = thrown(() =>
      renderString("a\n{{#if x}}{{upper (lower nme)}}{{/if}}", { x: 1 }, { file: "f.hbs" }),
    );
    expect(err.message).toContain('"nme"');
    expect(err.location).toEqual({ file: "f.hbs", line: 2, column: 18 });
  });

  it("are errors in the native form too", () => {
    expect(thrown(() => renderValue("{{ cpumask cpus }}", {})).message).toContain('"cpus"');
  });
});

describe("regex_escape helper", () => {
  it("escapes regex metacharacters as Python's re.escape does", () => {
    expect(renderString("^{{regex_escape k}}\\s*=", { k: "net.core.busy_poll" })).toBe(
      "^net\\.core\\.busy_poll\\s*=",
    );
    expect(renderString("{{regex_escape k}}", { k: "a+b(c)[d]" })).toBe("a\\+b\\(c\\)\\[d\\]");
  });
});

describe("get", () => {
  it("reads a key of a mapping, given by a variable too", () => {
    const vars = { m: { baseline: 100, ab: 50 }, phase: "ab" };
    expect(renderString("{{get m phase}} {{get m 'baseline'}}", vars)).toBe("50 100");
    expect(renderValue("{{ default missing (get m phase) }}", vars)).toBe(50);
  });

  it("names a key the mapping lacks, where Handlebars' lookup rendered nothing", () => {
    const err = thrown(() => renderString("{{get m 'nope'}}", { m: { a: 1 } }, loc));
    expect(err.code).toBe("UNDEFINED_VARIABLE");
    expect(err.message).toContain('get: the mapping has no key "nope"');
    expect(err.location).toEqual(loc);
  });
});

describe("Handlebars built-ins that tickless does not document", () => {
  const consoleMethods = ["log", "info", "debug", "warn", "error"] as const;

  it.each([
    ["{{log secret}}", "log"],
    ['{{log "pw is" secret level="error"}}', "log"],
    ['{{lookup m "missing"}}', "lookup"],
    ["{{#with m}}{{k}}{{/with}}", "with"],
  ])("%s is an unknown helper, found before rendering, and prints nothing", (source, helper) => {
    const spies = consoleMethods.map((m) => vi.spyOn(console, m).mockImplementation(() => {}));
    try {
      const err = thrown(() => renderString(source, { secret: "hunter2-secret", m: { k: 1 } }, loc));
      expect(err).toBeInstanceOf(ParseError);
      expect(err.message).toBe(`unknown helper "${helper}"`);
      expect(err.location).toEqual(loc);
      expect(err.hint).not.toMatch(/helperMissing|blockHelperMissing|__tickless/);
      expect(JSON.stringify(err)).not.toContain("hunter2-secret");
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it("keeps the documented blocks #if, #unless and #each", () => {
    expect(
      renderString("{{#if a}}A{{else}}-{{/if}}{{#unless b}}!B{{/unless}}{{#each xs}}{{this}}{{/each}}", {
        a: true,
        b: false,
        xs: [1, 2],
      }),
    ).toBe("A!B12");
  });
});
