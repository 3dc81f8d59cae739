/**
 * The template module's own arguments against the referee: `newline_sequence` (written or escaped,
 * unchanged again), `output_encoding` (default, UTF-8, windows-1252 by either name; latin-1 that
 * cannot hold "€" fails), the six delimiters (and on a `#jinja2:` first line, with a
 * `line_statement_prefix`), a directory as
 * `dest` (with and without "/", unchanged again) and `mode: preserve`; each task's status, the
 * messages, the bytes and the modes left must be the same. A `#jinja2:` pair without a colon is
 * refused when the playbook loads, in Ansible's words.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, run, writeTree } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  vars: { v: "val" }
  tasks:
    - name: crlf
      template: { src: nl.j2, dest: "{{ root }}/crlf", newline_sequence: '\\r\\n' }
    - name: crlf again
      template: { src: nl.j2, dest: "{{ root }}/crlf", newline_sequence: '\\r\\n' }
    - name: cr
      template: { src: nl.j2, dest: "{{ root }}/cr", newline_sequence: "\\r" }
    - name: lf
      template: { src: nl.j2, dest: "{{ root }}/lf", newline_sequence: '\\n' }
    - name: encodings
      template: { src: enc.j2, dest: "{{ root }}/enc-{{ item }}", output_encoding: "{{ item }}" }
      loop: ["", "utf-8", "windows-1252", "CP1252"]
    - name: latin-1 cannot hold the euro
      template: { src: enc.j2, dest: "{{ root }}/enc-latin", output_encoding: latin-1 }
      ignore_errors: true
    - name: delimiters
      template:
        src: delim.j2
        dest: "{{ root }}/delim"
        comment_start_string: "[#"
        comment_end_string: "#]"
        variable_start_string: "<<"
        variable_end_string: ">>"
        block_start_string: "<%"
        block_end_string: "%>"
    - name: comment delimiters only
      template: { src: comments.j2, dest: "{{ root }}/comments", comment_start_string: "[#", comment_end_string: "#]" }
    - name: delimiters on the first line
      template: { src: header.j2, dest: "{{ root }}/header" }
    - name: line statements
      template: { src: lines.j2, dest: "{{ root }}/lines" }
    - name: a directory
      file: { path: "{{ root }}/d", state: directory, mode: "0755" }
    - name: into the directory
      template: { src: foo.j2, dest: "{{ root }}/d/", mode: "0600" }
      register: into
    - name: into the directory again
      template: { src: foo.j2, dest: "{{ root }}/d/", mode: "0600" }
      register: again
    - name: the directory without a slash
      template: { src: foo.j2, dest: "{{ root }}/d", mode: "0600" }
      register: noslash
    - name: where they went
      debug: { msg: "{{ into.dest | replace(root, '') }} {{ again.changed }} {{ noslash.changed }} {{ noslash.path | default(noslash.dest) | replace(root, '') }}" }
    - name: a template with an odd mode
      copy: { content: !unsafe "{{ v }}\\n", dest: "{{ root }}/odd.j2", mode: "0547" }
    - name: its mode preserved
      template: { src: "{{ root }}/odd.j2", dest: "{{ root }}/odd", mode: preserve }
      register: preserved
    - name: the mode reported
      debug: { msg: "{{ preserved.mode }}" }
`;

const TEMPLATES = {
  "templates/nl.j2": "BEGIN\n{{ v }}\n{% if v %}\nyes\n{% endif %}\nEND\n\n",
  "templates/enc.j2": "café € {{ v }}\n",
  "templates/delim.j2":
    "Before\n[# a comment #]\n<< v >> {{ v }} <% if v %>shown<% endif %> {% if v %}\n[#- trimmed -#]\n  after\n",
  "templates/comments.j2": "Before\n[# {{ a comment }} #]\n{# kept #} {{ v }}\n[#- trimmed -#]\n  After\n",
  "templates/header.j2":
    "#jinja2:variable_start_string:'<<' , variable_end_string:'>>'\nvar: << v >> {{ v }}\n",
  "templates/foo.j2": "x {{ v }}\n",
  "templates/lines.j2":
    '#jinja2: line_statement_prefix: "%"\n  % for x in [1, 2]\n  item {{ x }}\n\n% endfor\n  % if v\nlast\n% endif\n',
};

let dir: string;
let theirLines: string[];
let msgTasks: Set<string>;

/** Every path under a root with its mode and bytes (hex), sorted. */
async function left(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(root, { recursive: true })).sort()) {
    const p = path.join(root, entry);
    const st = await stat(p);
    const bytes = st.isFile() ? (await readFile(p)).toString("hex") : "dir";
    out.push(`${entry} ${(st.mode & 0o7777).toString(8)} ${bytes}`);
  }
  return out;
}

beforeAll(async () => {
  if (!hasAnsible) return;
  ({
    dir,
    lines: theirLines,
    msgTasks,
  } = await refereeFixture("tickless-compat-template-args-", PLAYBOOK, TEMPLATES));
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("the template module's arguments against ansible-playbook", () => {
  test("each task's status, the messages, the bytes and modes written", async () => {
    const ours = await ticklessRun(dir);
    expect(ticklessOutcomes(ours.results, msgTasks)).toEqual(theirLines);
    expect(theirLines).toContain('where they went@h1: ok "/d/foo.j2 False False /d/foo.j2"');
    expect(theirLines).toContain('latin-1 cannot hold the euro@h1: failed ""');
    const theirs = await left(path.join(dir, "ansible"));
    expect(await left(path.join(dir, "tickless"))).toEqual(theirs);
    expect(theirs.find((l) => l.startsWith("crlf "))).toContain(
      Buffer.from("val\r\nyes\r\n").toString("hex"),
    );
    expect(theirs.find((l) => l.startsWith("enc-windows-1252 "))).toContain("80"); // € in windows-1252
  }, 60_000);

  test("a #jinja2: pair without a colon is refused when the playbook loads", async () => {
    await writeTree(dir, {
      "sep.yml": `- hosts: h1\n  gather_facts: false\n  tasks:\n    - template: { src: sep.j2, dest: /nonexistent/x }\n`,
      "templates/sep.j2": "#jinja2: lstrip_blocks=True\nx\n",
    });
    const ours = await run({
      playbook: path.join(dir, "sep.yml"),
      inventory: path.join(dir, "inventory.yml"),
    }).catch((err: Error) => err);
    expect(ours).toBeInstanceOf(Error);
    expect(String((ours as Error).message)).toContain(
      "failed to parse jinja2 override 'lstrip_blocks=True'. Did you use something different from colon as key-value separator?",
    );
    expect((ours as { location?: { file: string; line: number } }).location).toMatchObject({
      file: path.join(dir, "templates/sep.j2"),
      line: 1,
    });
  }, 60_000);
});
