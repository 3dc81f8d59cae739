/**
 * Jinja templates: what is refused when a template is checked (statements tickless does not run,
 * syntax errors, unknown filters), each at its file:line:column with a hint; what fails while
 * rendering, located the same way; and which engine a file or a string goes to. Rendering
 * itself is checked against ansible-playbook in test/e2e/compat-jinja.test.ts.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TicklessError } from "../../src/errors.js";
import { loadPlaybook } from "../../src/playbook/load.js";
import { checkTemplate, renderString, renderTemplateFile, renderValue } from "../../src/template/index.js";
import { fileEngine, isJinja } from "../../src/template/jinja/classify.js";
import { checkJinja } from "../../src/template/jinja/render.js";

const file = "t.j2";

function thrown(fn: () => unknown): TicklessError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TicklessError) return err;
    throw err;
  }
  throw new Error("expected an error");
}

describe("refused when the template is checked", () => {
  const cases: [string, string, string, string][] = [
    // [template, code, "line:column message", hint fragment]
    ["a\n{% macro m %}x{% endmacro %}", "TEMPLATE", "2:1 invalid {% macro %}", "macro name(arg"],
    ["{% macro m(a b) %}{% endmacro %}", "TEMPLATE", '1:1 invalid parameter "a b"', "name=default"],
    ["{% macro m() %}x", "TEMPLATE", "1:1 {% macro %} is not closed", "{% endmacro %}"],
    [
      "{% include 'other.j2' %}",
      "TEMPLATE",
      "1:1 {% include %} in a playbook string is not supported",
      "template file",
    ],
    ["x {% import 'm.j2' as m %}", "TEMPLATE", "1:3 {% import %} in a playbook string", "template file"],
    ["{% from 'm.j2' import x %}", "TEMPLATE", "1:1 {% from %} in a playbook string", "template file"],
    ["x\n\n  {% extends 'base.j2' %}", "TEMPLATE", "3:3 {% extends %} is not supported", "inheritance"],
    ["{% block body %}{% endblock %}", "TEMPLATE", "1:1 {% block %} is not supported", "inheritance"],
    ["{% call %}{% endcall %}", "TEMPLATE", "1:1 invalid {% call %}", "call macro_name(args)"],
    ["{% macro m() %}{{ caller( }}{% endmacro %}", "TEMPLATE", "1:27 invalid template", "brackets"],
    ["{% filter upper %}x{% endfilter %}", "TEMPLATE", "1:1 {% filter %} is not supported", "| upper"],
    ["{% with a = 1 %}{% endwith %}", "TEMPLATE", "1:1 {% with %} is not supported", "{% set"],
    ["{% for x in xs %}{% break %}{% endfor %}", "TEMPLATE", "1:18 {% break %} is not supported", "if cond"],
    [
      "{% frobnicate %}",
      "TEMPLATE",
      "1:1 unknown statement {% frobnicate %}",
      "if, elif, else, for, set, raw",
    ],
    ["line\n{% if x %}\nno end", "TEMPLATE", "2:1 {% if %} is not closed", "{% endif %}"],
    ["{% for x in xs %}{% else %}", "TEMPLATE", "1:1 {% for %} is not closed", "{% endfor %}"],
    ["a {% endif %}", "TEMPLATE", "1:3 unexpected {% endif %}", "opening tag"],
    ["{% if x %}{% else %}{% elif y %}{% endif %}", "TEMPLATE", "1:21 unexpected {% elif %}", "opening tag"],
    ["{% if %}{% endif %}", "TEMPLATE", "1:1 {% if %} needs a condition", "{% if condition %}"],
    ["{% for x of xs %}{% endfor %}", "TEMPLATE", "1:1 invalid {% for %}", "for item in items"],
    ["{% for x in xs recursive %}{% endfor %}", "TEMPLATE", "1:1 recursive loops are not supported", "loop"],
    ["{% set ns.count = 1 %}", "TEMPLATE", "1:1 invalid {% set %}", "namespace()"],
    ["{% endif x %}", "TEMPLATE", "1:1 unexpected {% endif %}", "opening tag"],
    ["{% if x %}{% endif x %}", "TEMPLATE", "1:11 unexpected text after {% endif %}", "alone"],
    ["a\nb {# never closed", "TEMPLATE", "2:3 invalid template: missing end of comment tag", "#}"],
    ["{{ x", "TEMPLATE", "1:1 invalid template: unexpected end of template: {{ is not closed", "}}"],
    ["{% if x", "TEMPLATE", "1:1 invalid template: unexpected end of template: {% is not closed", "%}"],
    ["{% raw %}{{ x }}", "TEMPLATE", "1:1 invalid template: missing {% endraw %}", "raw"],
    ["{{ f(x]) }}", "TEMPLATE", "1:7 invalid template: unexpected ']', expected ')'", "brackets"],
    ["{% if x %}\n  {{ x | lenght }}\n{% endif %}", "EXPRESSION", '2:6 invalid expression "x | lenght"', ""],
    ["{% if x is frobbed %}{% endif %}", "EXPRESSION", '1:7 invalid expression "x is frobbed"', ""],
    ["{% for x in xs | nosuch %}{% endfor %}", "EXPRESSION", '1:13 invalid expression "xs | nosuch"', ""],
    ["{{ }}", "TEMPLATE", "1:1 empty {{ }}", "expression"],
    [
      "a\n {{ xs.append(1) }}",
      "EXPRESSION",
      "2:5 .append() changes the value it is called on; tickless refuses it",
      "xs + [item]",
    ],
    ["{{ d.update({'k': 1}) }}", "EXPRESSION", "1:4 .update() changes the value", "combine"],
    [
      "{{ x.endswith(['a']) }}",
      "EXPRESSION",
      "1:4 endswith first arg must be str or a tuple of str, not list",
      "('a', 'b')",
    ],
    ["{{ x.casefold() }}", "EXPRESSION", "1:4 the method .casefold() is not supported", "filter"],
    ["{{ frob(x) }}", "EXPRESSION", '1:4 invalid expression "frob(x)": unknown function "frob"', "filters"],
    [
      "{{ {k: 'a', 'q': 1} }}",
      "EXPRESSION",
      "1:4 the mapping key k is written as a name: Ansible reads it as the variable k",
      "| items2dict",
    ],
    [
      "{{#if x}}{% if y %}{% endif %}{{/if}}",
      "TEMPLATE",
      '1:1 a Handlebars block "{{#" in a Jinja template',
      ".hbs",
    ],
    [
      "#jinja2: line_comment_prefix: '##'\n## x\n",
      "TEMPLATE",
      "1:1 unsupported #jinja2: setting",
      "*_start_string",
    ],
    [
      "#jinja2: lstrip_blocks=True\nx\n",
      "TEMPLATE",
      "1:1 failed to parse jinja2 override 'lstrip_blocks=True'.",
      "key: value",
    ],
  ];
  it.each(cases)("%j → %s at %s", (source, code, where, hint) => {
    const err = thrown(() => checkJinja(source, { file }));
    const [at, ...message] = where.split(" ");
    const [line, column] = at.split(":").map(Number);
    expect(err.code).toBe(code);
    expect(err.location).toEqual({ file, line, column });
    expect(err.message).toContain(message.join(" "));
    expect(err.hint ?? "").toContain(hint);
  });

  it("keeps the caller's location for a string inside a playbook", () => {
    const loc = { file: "site.yml", line: 7, column: 12 };
    const err = thrown(() => checkTemplate("{% if x %}\n{% include 'y' %}{% endif %}", loc));
    expect(err.location).toEqual(loc);
  });

  it("accepts what it runs", () => {
    const ok = "{% for k, v in d.items() if v %}{{ k }}{% else %}-{% endfor %}{% set a, b = [1, 2] %}{# c #}";
    expect(() => checkTemplate(ok, { file })).not.toThrow();
  });
});

describe("failures while rendering, located", () => {
  const vars = { n: 3, xs: [[1, 2], [3]], d: { a: 1 } };
  const cases: [string, string, string, string][] = [
    ["x\n{% for i in n %}{% endfor %}", "TEMPLATE", '2:13 cannot loop over "n": it is number', "list"],
    [
      "{% for a, b in xs %}{{ a }}{% endfor %}",
      "TEMPLATE",
      "1:16 cannot unpack 1 values into a, b",
      "as many values",
    ],
    ["{% for k in n.items() %}{% endfor %}", "TEMPLATE", '1:13 cannot loop over "n"', "mapping"],
    [
      "{% if n > 1 %}\n  {{ missing }}\n{% endif %}",
      "UNDEFINED_VARIABLE",
      '2:6 undefined variable "missing"',
      "",
    ],
    ["{% for x in xs %}{% endfor %}{{ x }}", "UNDEFINED_VARIABLE", '1:33 undefined variable "x"', ""],
  ];
  it.each(cases)("%j → %s at %s", (source, code, where, hint) => {
    const err = thrown(() => renderString(source, vars, { file }));
    const [at, ...message] = where.split(" ");
    const [line, column] = at.split(":").map(Number);
    expect(err.code).toBe(code);
    expect(err.location).toEqual({ file, line, column });
    expect(err.message).toContain(message.join(" "));
    expect(err.hint ?? "").toContain(hint);
  });
});

describe("which engine", () => {
  it.each([
    ["a {% if x %}", true],
    ["a {# note #}", true],
    ["{{#if x}}y{{/if}}", false],
    ["{{ x | default(1) }}", false],
    ["plain", false],
  ])("%j is Jinja: %s", (text, jinja) => {
    expect(isJinja(text)).toBe(jinja);
  });

  it.each([
    ["redis.conf.hbs", "{% if %}", "handlebars"],
    ["redis.conf.j2", "{{ x }}", "jinja"],
    ["redis.conf", "{% if x %}{% endif %}", "jinja"],
    ["redis.conf", "{{#each x}}{{/each}}", "handlebars"],
  ])("%s holding %j renders with %s", (path, text, engine) => {
    expect(fileEngine(path, text)).toBe(engine);
  });

  it("types a playbook string as Ansible does: text that reads as a list is one", () => {
    const vars = { xs: ["a", "b"], on: true };
    expect(renderValue("[{% for x in xs %}'{{ x }}',{% endfor %}]", vars)).toEqual(["a", "b"]);
    expect(renderValue("{% if on %}True{% endif %}", vars)).toBe(true);
    expect(renderString("{% if on %}yes{% endif %}\n", vars)).toBe("yes\n");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's ${#arr[@]}
    expect(renderString("n=${{ '{#' }}arr[@]}", vars)).toBe("n=${#arr[@]}");
  });
});

describe("template files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-jinja-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a .j2 file renders as Jinja; the module's options override the defaults", async () => {
    const path = join(dir, "a.j2");
    await writeFile(path, "{% for x in xs %}\n  {% if x %}\n{{ x }}\n  {% endif %}\n{% endfor %}\n");
    expect(await renderTemplateFile(path, { xs: [1, 0] })).toBe("  1\n    \n");
    expect(await renderTemplateFile(path, { xs: [1, 0] }, { lstripBlocks: true })).toBe("1\n");
  });

  it("a refused statement in a template file fails the playbook's load, at its line in the file", async () => {
    await writeFile(join(dir, "bad.j2"), "# header\n{% if a %}\n  {% extends 'x.j2' %}\n{% endif %}\n");
    const playbook = join(dir, "p.yml");
    await writeFile(
      playbook,
      "- hosts: localhost\n  tasks:\n    - template: { src: bad.j2, dest: /tmp/never-written }\n",
    );
    const err = await loadPlaybook(playbook).then(
      () => undefined,
      (e) => e as TicklessError,
    );
    expect(err?.code).toBe("TEMPLATE");
    expect(err?.location).toEqual({ file: join(dir, "bad.j2"), line: 3, column: 3 });
    expect(err?.message).toBe("{% extends %} is not supported");
  });

  it("a mistake in a template that one includes or imports is found at load time, at its line there", async () => {
    await mkdir(join(dir, "templates", "parts"), { recursive: true });
    await writeFile(
      join(dir, "templates", "main.j2"),
      "{% include 'parts/inner.j2' %}\n{% import 'm.j2' as m %}\n",
    );
    await writeFile(
      join(dir, "templates", "parts", "inner.j2"),
      "ok\n{% for x in xs %}\n  {{ x | nosuch }}\n{% endfor %}\n",
    );
    await writeFile(join(dir, "templates", "m.j2"), "{% macro row(a) %}{{ a }}{% endmacro %}\n");
    const playbook = join(dir, "inc.yml");
    await writeFile(
      playbook,
      "- hosts: localhost\n  tasks:\n    - template: { src: main.j2, dest: /tmp/never-written }\n",
    );
    const err = await loadPlaybook(playbook).then(
      () => undefined,
      (e) => e as TicklessError,
    );
    expect(err?.code).toBe("EXPRESSION");
    expect(err?.location).toEqual({ file: join(dir, "templates", "parts", "inner.j2"), line: 3, column: 6 });
    expect(err?.message).toContain('unknown filter "nosuch"');
  });
});
