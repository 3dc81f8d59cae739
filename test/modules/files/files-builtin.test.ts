import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { FILE_MODULES } from "../../../src/modules/files/index.js";

const warnings: unknown[] = [];
const logger = {
  log: () => undefined,
  warn: (...w: unknown[]) => warnings.push(w),
  error: (...e: unknown[]) => warnings.push(e),
};
const ajv = new Ajv({ allErrors: true, logger });
const validators = new Map(FILE_MODULES.map((m) => [m.name, ajv.compile(m.args)]));

describe("file module argument schemas", () => {
  it("compile without strict-mode warnings", () => {
    expect(warnings).toEqual([]);
  });

  it("registers the seven file modules", () => {
    expect(FILE_MODULES.map((m) => m.name)).toEqual([
      "copy",
      "template",
      "file",
      "lineinfile",
      "blockinfile",
      "stat",
      "tempfile",
    ]);
  });

  it.each([
    ["copy", { dest: "/x", content: "a", mode: "0644" }],
    [
      "copy",
      { dest: "/x", src: "f", remote_src: true, mode: 420, owner: "root", backup: true, force: false },
    ],
    ["template", { src: "t.hbs", dest: "/x", mode: "u=rw,go=r" }],
    ["file", { path: "/x", state: "directory", mode: "0755" }],
    ["file", { name: "/x", state: "link", src: "/y", force: true }],
    // a link without src is decided when the task runs (an existing link is kept), as Ansible
    ["file", { path: "/x", state: "link" }],
    ["file", { path: "/x", state: "hard", src: "/y", force: true }],
    ["file", { path: "/x", state: "directory", recurse: true, owner: "1234" }],
    ["file", { path: "/x", attributes: "+A" }],
    ["file", { path: "/x", state: "touch", attr: "" }],
    ["lineinfile", { dest: "/x", regexp: "^a", line: "a=1", insertafter: "EOF", create: true }],
    ["lineinfile", { path: "/x", search_string: "a", state: "absent" }],
    ["blockinfile", { path: "/x", block: "a", marker: "# {mark}", insertbefore: "BOF" }],
    ["stat", { path: "/x", follow: true, get_checksum: false }],
  ])("accepts %s %j", (name, args) => {
    const validate = validators.get(name)!;
    expect(validate(args), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ["copy", { dest: "/x" }, "neither src nor content"],
    ["copy", { dest: "/x", src: "a", content: "b" }, "src and content"],
    ["copy", { dest: "/x", content: "a", bogus: 1 }, "an unknown key"],
    ["template", { src: "t" }, "no dest"],
    ["file", { path: "/x", recurse: true, modification_time: "now" }, "recurse with a time"],
    ["file", { path: "/x", state: "directory", recurse: true, attributes: "A" }, "recurse with attributes"],
    ["file", { path: "/x", state: "directory", recurse: true, attr: "A" }, "recurse with attr"],
    ["file", { path: "/x", state: "hard", src: "/y", access_time: "now" }, "a hard link with a time"],
    ["file", { state: "directory" }, "no path"],
    ["file", { path: "/x", mode: true }, "a boolean mode"],
    [
      "lineinfile",
      { path: "/x", line: "a", insertafter: "a", insertbefore: "b" },
      "insertafter with insertbefore",
    ],
    ["lineinfile", { path: "/x", line: "a", regexp: "a", search_string: "b" }, "regexp with search_string"],
    ["blockinfile", { path: "/x", state: "maybe" }, "a bad state"],
    ["stat", { path: "/x", checksum_algorithm: "crc32" }, "an algorithm Ansible does not offer"],
  ] as [string, Record<string, unknown>, string][])("rejects %s %j (%s)", (name, args) => {
    expect(validators.get(name)!(args)).toBe(false);
  });
});
