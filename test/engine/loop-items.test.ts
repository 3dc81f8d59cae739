/** `with_items` flattens one level (and makes a list of a lone value), as Ansible; `loop` takes the list as written. */
import { afterAll, beforeAll, expect, test } from "vitest";
import { type Lab, lab, removeDir, run } from "../e2e/helpers.js";

let l: Lab;
beforeAll(async () => {
  l = await lab(["h1"], {
    "p.yml": `- hosts: all
  gather_facts: false
  vars:
    nested: [[a, b], [c, [d, e]], f]
    one: single
  tasks:
    - name: with_items
      debug: { msg: "{{ json item }}" }
      with_items: "{{ nested }}"
    - name: loop
      debug: { msg: "{{ json item }}" }
      loop: "{{ nested }}"
    - name: with_items scalar
      debug: { msg: "{{ json item }}" }
      with_items: "{{ one }}"
`,
  });
});
afterAll(() => removeDir(l.dir));

test("items seen by each loop form", async () => {
  const r = await run({ playbook: l.file("p.yml"), inventory: l.inventory });
  expect(r.summary.exitCode).toBe(0);
  const items = (task: string) =>
    r.events.flatMap((e) =>
      e.type === "host_result" && e.task === task && e.item !== undefined ? [e.result.msg] : [],
    );
  expect(items("with_items")).toEqual(['"a"', '"b"', '"c"', '["d","e"]', '"f"']);
  expect(items("loop")).toEqual(['["a","b"]', '["c",["d","e"]]', '"f"']);
  expect(items("with_items scalar")).toEqual(['"single"']);
});
