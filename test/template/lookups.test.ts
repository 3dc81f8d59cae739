/**
 * lookup(), query() and q() in expressions, on a small file tree: where `file` and `template`
 * look (the role's files/ and templates/ first, then the task file's directory, then the
 * playbook's), ansible-core's joining and wantlist, the three `errors=` modes, first_found's
 * files/paths/skip, and the unsafe mark on what a lookup returns.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TicklessError } from "../../src/errors.js";
import { evaluate } from "../../src/template/index.js";
import { setLookupWarnings } from "../../src/template/lookups.js";
import { renderValue } from "../../src/template/render-value.js";
import { UnsafeText } from "../../src/template/unsafe.js";

let dir: string;
let vars: Record<string, unknown>;
let roleVars: Record<string, unknown>;
const at = () => ({ file: path.join(dir, "tasks", "main.yml"), line: 3, column: 5 });
const inRole = () => ({ file: path.join(dir, "roles", "r", "tasks", "main.yml"), line: 1, column: 1 });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "tickless-lookups-"));
  const files: Record<string, string> = {
    "files/a.txt": "playbook files a\n",
    "a.txt": "playbook a\n",
    "tasks/files/t.txt": "task files t\n",
    "tasks/t.txt": "task t\n",
    "roles/r/files/a.txt": "role files a\n",
    "templates/greet.j2": "hi {{ who }}{{ suffix | default('') }}\n",
    "roles/r/templates/greet.j2": "role hi {{ who }}\n",
    "templates/list.j2": "[1, 2, {{ n }}]",
    "etc/conf/x.cfg": "x",
  };
  for (const [f, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), text);
  }
  vars = { playbook_dir: dir, who: "ann", n: 3, name_var: "a.txt", tmpl: "{{ who }}" };
  roleVars = { ...vars, role_path: path.join(dir, "roles", "r") };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function failure(fn: () => unknown): TicklessError {
  try {
    fn();
  } catch (err) {
    return err as TicklessError;
  }
  throw new Error("expected an error");
}

describe("file and template: where they look", () => {
  it("the playbook's files/ before the playbook's directory; the task file's directory first", () => {
    expect(evaluate("lookup('file', 'a.txt')", vars, at())).toBe("playbook files a");
    expect(evaluate("lookup('file', 't.txt')", vars, at())).toBe("task files t");
    expect(evaluate("lookup('file', 'files/a.txt')", vars, at())).toBe("playbook files a");
  });

  it("a role's files/ and templates/ first", () => {
    expect(evaluate("lookup('file', 'a.txt')", roleVars, inRole())).toBe("role files a");
    expect(evaluate("lookup('template', 'greet.j2')", roleVars, inRole())).toBe("role hi ann\n");
  });

  it("an absolute path only as it is", () => {
    const abs = path.join(dir, "a.txt");
    expect(evaluate(`lookup('file', '${abs}')`, vars, at())).toBe("playbook a");
  });

  it("a term written as a string is templated first, a var's text is not templated again", () => {
    expect(evaluate("lookup('file', '{{ name_var }}')", vars, at())).toBe("playbook files a");
    expect(evaluate("lookup('template', 'greet.j2', template_vars={'suffix': '!'})", vars, at())).toBe(
      "hi ann!\n",
    );
  });

  it("template converts a literal unless convert_data=False", () => {
    expect(evaluate("lookup('template', 'list.j2')", vars, at())).toEqual([1, 2, 3]);
    expect(evaluate("lookup('template', 'list.j2', convert_data=False)", vars, at())).toBe("[1, 2, 3]");
  });
});

describe("ansible-core's Templar._lookup", () => {
  it("lookup joins strings with a comma; wantlist and query keep the list; one non-string item is itself", () => {
    expect(evaluate("lookup('items', ['a', 'b'], 'c')", vars, at())).toBe("a,b,c");
    expect(evaluate("lookup('items', ['a', 'b'], wantlist=True)", vars, at())).toEqual(["a", "b"]);
    expect(evaluate("query('items', 'a')", vars, at())).toEqual(["a"]);
    expect(evaluate("q('items', ['a', 'b'])", vars, at())).toEqual(["a", "b"]);
    expect(evaluate("lookup('list', [1, 2])", vars, at())).toEqual([1, 2]);
    expect(evaluate("lookup('items', [1, 2])", vars, at())).toEqual([1, 2]);
    expect(evaluate("lookup('sequence', 'count=0')", vars, at())).toEqual([]);
  });

  it("errors=strict fails in Ansible's words, warn warns and gives None, ignore gives None or []", () => {
    const err = failure(() => evaluate("lookup('file', 'missing.txt')", vars, at()));
    expect(err.message).toBe(
      "An unhandled exception occurred while running the lookup plugin 'file'. Error was a <class 'ansible.errors.AnsibleError'>, original message: could not locate file in lookup: missing.txt. could not locate file in lookup: missing.txt",
    );
    expect(err.location).toEqual(at());
    const warned: string[] = [];
    setLookupWarnings((m) => warned.push(m));
    try {
      expect(evaluate("lookup('pipe', 'exit 2', errors='warn')", vars, at())).toBeNull();
    } finally {
      setLookupWarnings(undefined);
    }
    expect(warned).toEqual([
      "An unhandled exception occurred while running the lookup plugin 'pipe'. Error was a <class 'ansible.errors.AnsibleError'>, original message: lookup_plugin.pipe(exit 2) returned 2",
    ]);
    expect(evaluate("lookup('file', 'missing.txt', errors='ignore')", vars, at())).toBeNull();
    expect(evaluate("query('file', 'missing.txt', errors='ignore')", vars, at())).toEqual([]);
    expect(failure(() => evaluate("lookup('env', 'HOME', errors='loud')", vars, at())).message).toMatch(
      /valid values are strict, warn, ignore/,
    );
  });

  it("the result is unsafe: a set_fact of it keeps the braces", () => {
    const kept = renderValue("{{ lookup('pipe', 'printf \"%s%s who }}\" { {') }}", vars, at(), {
      keepUnsafe: true,
    });
    expect(kept).toBeInstanceOf(UnsafeText);
    expect(String(kept)).toBe("{{ who }}");
    const plain = renderValue("{{ lookup('pipe', 'echo plain', allow_unsafe=True) }}", vars, at(), {
      keepUnsafe: true,
    });
    expect(plain).toBe("plain");
  });
});

describe("the other plugins", () => {
  it("env with a default, pipe and lines in the playbook's directory, vars", () => {
    process.env.TICKLESS_LOOKUP_UNIT = "v";
    try {
      expect(evaluate("lookup('env', 'TICKLESS_LOOKUP_UNIT')", vars, at())).toBe("v");
    } finally {
      delete process.env.TICKLESS_LOOKUP_UNIT;
    }
    expect(evaluate("lookup('env', 'TICKLESS_LOOKUP_UNIT', default='d')", vars, at())).toBe("d");
    expect(evaluate("lookup('pipe', 'cat a.txt')", vars, at())).toBe("playbook a");
    expect(evaluate("query('lines', 'printf \"1\\\\n2\\\\n\"')", vars, at())).toEqual(["1", "2"]);
    expect(evaluate("lookup('vars', 'tmpl')", vars, at())).toBe("ann");
    expect(evaluate("lookup('vars', 'nope', default=0)", vars, at())).toBe(0);
    expect(failure(() => evaluate("lookup('vars', 'nope')", vars, at())).message).toBe(
      "No variable found with this name: nope",
    );
  });

  it("first_found: names, files with paths, skip", () => {
    expect(evaluate("lookup('first_found', ['none.txt', 't.txt'])", vars, at())).toBe(
      path.join(dir, "tasks", "files", "t.txt"),
    );
    expect(
      evaluate(
        `lookup('first_found', {'files': ['y.cfg', 'x.cfg'], 'paths': ['${dir}/etc/none:${dir}/etc/conf']})`,
        vars,
        at(),
      ),
    ).toBe(path.join(dir, "etc", "conf", "x.cfg"));
    expect(evaluate("query('first_found', 'none.txt', skip=True)", vars, at())).toEqual([]);
    expect(failure(() => evaluate("lookup('first_found', 'none.txt')", vars, at())).message).toBe(
      "No file was found when using first_found.",
    );
  });
});
