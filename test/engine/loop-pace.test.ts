/**
 * A long loop of actions that do no I/O (debug, set_fact) still lets the event loop turn (timers,
 * signals, output draining), waits for the caller's pace between items, and registers every item.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { type Lab, lab, removeDir, run } from "../e2e/helpers.js";

const ITEMS = 1000;
let l: Lab;
beforeAll(async () => {
  l = await lab(["h1"], {
    "p.yml": `- hosts: all
  gather_facts: false
  tasks:
    - name: items
      command: seq 1 ${ITEMS}
      register: numbers
    - name: many
      debug: { msg: "n {{ item }}" }
      loop: "{{ numbers.stdout_lines }}"
      register: looped
    - name: all registered
      assert:
        that:
          - looped.results | length == ${ITEMS}
          - looped.results[999].item == "${ITEMS}"
          - looped.results[999].msg == "n ${ITEMS}"
          - looped.results[0].ansible_loop_var == "item"
`,
  });
});
afterAll(() => removeDir(l.dir));

const itemsSeen = (events: { type: string; item?: string }[]) =>
  events.filter((e) => e.type === "host_result" && e.item !== undefined).length;

test("a timer set when the loop starts fires before the loop ends", async () => {
  let seenWhenFired = -1;
  const events: { type: string; item?: string }[] = [];
  const r = await run({
    playbook: l.file("p.yml"),
    inventory: l.inventory,
    onEvent: (e) => {
      events.push(e as { type: string; item?: string });
      if (e.type === "task_start" && e.task === "many")
        setTimeout(() => {
          seenWhenFired = itemsSeen(events);
        }, 0);
    },
  });
  expect(r.summary.exitCode).toBe(0);
  expect(itemsSeen(events)).toBe(ITEMS);
  expect(seenWhenFired).toBeGreaterThanOrEqual(0);
  expect(seenWhenFired).toBeLessThan(ITEMS);
});

test("the caller's pace is waited for between items", async () => {
  let paces = 0;
  let itemsAtRelease = -1;
  const events: { type: string; item?: string }[] = [];
  let release: (() => void) | undefined;
  const r = await run({
    playbook: l.file("p.yml"),
    inventory: l.inventory,
    onEvent: (e) => events.push(e as { type: string; item?: string }),
    // the tenth wait holds the loop until a later turn of the event loop
    pace: () => {
      paces++;
      if (paces !== 10) return undefined;
      return new Promise<void>((resolve) => {
        release = () => {
          itemsAtRelease = itemsSeen(events);
          resolve();
        };
        setTimeout(() => release?.(), 0);
      });
    },
  });
  expect(r.summary.exitCode).toBe(0);
  expect(paces).toBe(ITEMS);
  expect(itemsAtRelease).toBe(10);
});
