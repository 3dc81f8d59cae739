/** A task's keywords: play → block → include → task, resolved once. */
import { describe, expect, it } from "vitest";
import { inherit, playKeywords, resolveTask } from "../../src/engine/task-keywords.js";
import type { Play, Task } from "../../src/playbook/types.js";

const node = (over: Partial<Task>) => ({ environment: {}, noLog: false, ...over }) as Task;

describe("resolveTask", () => {
  const play = { become: true, environment: { A: "play", B: "play" }, noLog: false } as unknown as Play;

  it("the nearest written value wins; environment is merged, inner names winning", () => {
    const block = inherit(
      playKeywords(play),
      node({ becomeUser: "redis", environment: { B: "block" }, diff: true }),
    );
    const include = inherit(block, node({ become: false, ignoreErrors: true, checkMode: false }));
    const task = resolveTask(include, node({ become: true, environment: { C: "task" } }), {
      check: true,
      diff: false,
    });
    expect(task).toEqual({
      become: true,
      becomeUser: "redis",
      environment: { A: "play", B: "block", C: "task" },
      noLog: false,
      ignoreErrors: true,
      check: false,
      diff: true,
    });
  });

  it("nothing written: the connection's become, the run's --check and --diff", () => {
    const task = resolveTask(playKeywords({ environment: {}, noLog: false } as unknown as Play), node({}), {
      check: true,
      diff: true,
    });
    expect(task).toMatchObject({ become: undefined, becomeUser: undefined, check: true, diff: true });
  });

  it("no_log set above stays set below", () => {
    const block = inherit(playKeywords(play), node({ noLog: true }));
    expect(resolveTask(block, node({ noLog: false }), { check: false, diff: false }).noLog).toBe(true);
  });
});
