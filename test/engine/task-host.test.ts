/** taskHost: which of a task's settings reach the commands it runs. */
import { describe, expect, it } from "vitest";
import type { Connection, RunOptions } from "../../src/connection/types.js";
import { taskHost } from "../../src/engine/task-host.js";

/** A connection that records the options of each operation (the transports have their own tests). */
function recording(): { conn: Connection; runs: RunOptions[]; files: [string, unknown][] } {
  const runs: RunOptions[] = [];
  const files: [string, unknown][] = [];
  const conn: Connection = {
    name: "h1",
    transport: "local",
    run: async (_command: string, o: RunOptions = {}) => {
      runs.push(o);
      return { rc: 0, stdout: "", stderr: "" };
    },
    readFile: async (_p: string, o: unknown) => files.push(["readFile", o]) && { exists: false },
    stat: async (_p: string, o: unknown) => files.push(["stat", o]) && { exists: false },
    writeFile: async (_p: string, _c: unknown, o: unknown) => void files.push(["writeFile", o]),
    remove: async (_p: string, o: unknown) => void files.push(["remove", o]),
    close: async () => {},
  } as unknown as Connection;
  return { conn, runs, files };
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

  it("passes the task's become to every file operation too, keeping each call's own options", async () => {
    const { conn, files } = recording();
    const host = taskHost(conn, { become: true, becomeUser: "root", environment: {} });
    await host.readFile("/etc/a");
    await host.stat("/etc/a", { follow: true });
    await host.writeFile("/etc/a", "x", { mode: "0600" });
    await host.remove("/etc/a", { recursive: true, become: false });
    const as = { become: true, becomeUser: "root" };
    expect(files).toEqual([
      ["readFile", as],
      ["stat", { ...as, follow: true }],
      ["writeFile", { ...as, mode: "0600" }],
      ["remove", { become: false, becomeUser: "root", recursive: true }],
    ]);
  });
});
