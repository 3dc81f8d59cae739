/** taskHost: which of a task's settings reach the commands it runs. */
import { describe, expect, it } from "vitest";
import type { Connection, RunOptions } from "../../src/connection/types.js";
import { taskHost } from "../../src/engine/task-host.js";

/** A connection that records the options of each `run` (the transports have their own tests). */
function recording(): { conn: Connection; runs: RunOptions[] } {
  const runs: RunOptions[] = [];
  const conn: Connection = {
    name: "h1",
    transport: "local",
    run: async (_command: string, o: RunOptions = {}) => {
      runs.push(o);
      return { rc: 0, stdout: "", stderr: "" };
    },
    readFile: async () => ({ exists: false }),
    stat: async () => ({ exists: false }),
    writeFile: async () => {},
    remove: async () => false,
    close: async () => {},
  } as unknown as Connection;
  return { conn, runs };
}

describe("taskHost", () => {
  it("returns the connection itself when the task sets nothing", () => {
    const { conn } = recording();
    expect(taskHost(conn, { environment: {} })).toBe(conn);
  });

  it("passes become_user alone (become on from the inventory names the user, as in Ansible)", async () => {
    const { conn, runs } = recording();
    await taskHost(conn, { becomeUser: "redis", environment: {} }).run("id -un");
    expect(runs).toEqual([expect.objectContaining({ become: undefined, becomeUser: "redis" })]);
  });

  it("passes become and become_user, and the command's own options win", async () => {
    const { conn, runs } = recording();
    const host = taskHost(conn, { become: true, becomeUser: "redis", environment: { A: "1" } });
    await host.run("x");
    await host.run("y", { becomeUser: "nobody", env: { B: "2" } });
    expect(runs[0]).toMatchObject({ become: true, becomeUser: "redis", env: { A: "1" } });
    expect(runs[1]).toMatchObject({ become: true, becomeUser: "nobody", env: { A: "1", B: "2" } });
  });
});
