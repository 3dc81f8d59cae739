/** Timestamps written by the hosts themselves: `free` lets a fast host finish first; `forks: 1` never overlaps hosts. */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Lab, lab, removeDir, run } from "./helpers.js";

/** Each task appends `<task> start|end <ms>` to the host's log; h2 sleeps longer. */
const tasks = `  vars:
    pause: "{{#if (eq inventory_hostname 'h2')}}0.6{{else}}0.05{{/if}}"
  tasks:
    - name: one
      shell: "echo one start $(date +%s%3N) >> {{ root }}/log; sleep {{ pause }}; echo one end $(date +%s%3N) >> {{ root }}/log"
    - name: two
      shell: "echo two start $(date +%s%3N) >> {{ root }}/log; sleep {{ pause }}; echo two end $(date +%s%3N) >> {{ root }}/log"
`;
const play = (strategy: string, forks = "") =>
  `- hosts: all\n  gather_facts: false\n  strategy: ${strategy}\n${forks}${tasks}`;

let l: Lab;
beforeAll(async () => {
  l = await lab(["h1", "h2"], { "free.yml": play("free"), "linear.yml": play("linear") });
});
afterAll(() => removeDir(l.dir));

/** `{ "one start": ms, … }` from a host's log, then the log is removed for the next run. */
async function times(host: string): Promise<Record<string, number>> {
  const file = `${l.roots[host]}/log`;
  const text = await readFile(file, "utf8");
  await removeDir(file);
  return Object.fromEntries(
    text
      .trim()
      .split("\n")
      .map((line) => {
        const [task, edge, ms] = line.split(" ");
        return [`${task} ${edge}`, Number(ms)];
      }),
  );
}

describe("strategies and forks", () => {
  test("free: the fast host runs both tasks and finishes while the slow one is still in its first", async () => {
    const r = await run({ playbook: l.file("free.yml"), inventory: l.inventory, forks: 5 });
    expect(r.summary.exitCode).toBe(0);
    const [h1, h2] = [await times("h1"), await times("h2")];
    expect(h1["two end"]).toBeLessThan(h2["one end"]);
    expect(h1["two start"]).toBeLessThan(h2["one end"]);
  });

  test("linear (control): no host starts task two before every host ended task one", async () => {
    const r = await run({ playbook: l.file("linear.yml"), inventory: l.inventory, forks: 5 });
    expect(r.summary.exitCode).toBe(0);
    const [h1, h2] = [await times("h1"), await times("h2")];
    expect(h1["two start"]).toBeGreaterThanOrEqual(h2["one end"]);
    expect(h1["one start"]).toBeLessThan(h2["one end"]);
  });

  test.each(["linear", "free"])(
    "%s with forks: 1 serialises hosts: no two hosts' tasks overlap",
    async (strategy) => {
      const r = await run({ playbook: l.file(`${strategy}.yml`), inventory: l.inventory, forks: 1 });
      expect(r.summary.exitCode).toBe(0);
      const spans = [];
      for (const h of ["h1", "h2"]) {
        const t = await times(h);
        spans.push([t["one start"], t["one end"]], [t["two start"], t["two end"]]);
      }
      spans.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    },
  );
});
