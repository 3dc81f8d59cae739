/**
 * Check mode's overlay (connection/planned.ts) records a planned change in as few host reads as it
 * can: the probe's own read of the path since the host last changed answers, and the missing
 * directories above a new path are stat'ed together. Over a real local connection on a temp dir.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { openLocal } from "../../src/connection/local.js";
import { plannedConnection } from "../../src/connection/planned.js";
import type { Connection } from "../../src/connection/types.js";

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

/** A local connection that logs each host read it is asked for, and how many were in flight at once. */
async function counted() {
  const conn = await openLocal({ host: "h1", transport: "local" });
  const reads: string[] = [];
  let inFlight = 0;
  let widest = 0;
  const wrapped: Connection = Object.create(conn);
  for (const op of ["readFile", "stat"] as const) {
    (wrapped as unknown as Record<string, unknown>)[op] = async (path: string, o?: object) => {
      reads.push(`${op} ${path}`);
      widest = Math.max(widest, ++inFlight);
      try {
        return await (conn[op] as (p: string, o?: object) => Promise<unknown>)(path, o);
      } finally {
        inFlight--;
      }
    };
  }
  const base = await mkdtemp(join(tmpdir(), "tickless-planned-"));
  dirs.push(base);
  return { host: plannedConnection(wrapped), reads, widest: () => widest, base };
}

describe("the overlay's reads when it records a planned change", () => {
  test("a file the probe just read: recorded with no further read, its owner and mode kept", async () => {
    const { host, reads, base } = await counted();
    await writeFile(join(base, "grub"), "GRUB_TIMEOUT=5\n", { mode: 0o640 });
    const probed = await host.readFile(join(base, "grub"));
    reads.length = 0;
    await host.planned.record({ path: join(base, "grub"), type: "file", content: "GRUB_TIMEOUT=1\n" });
    expect(reads).toEqual([]);
    const after = await host.readFile(join(base, "grub"));
    expect(after.content?.toString()).toBe("GRUB_TIMEOUT=1\n");
    expect(after.mode).toBe("0640");
    expect(after.uid).toBe(probed.uid);
  });

  test("after a command ran, the host is read again", async () => {
    const { host, reads, base } = await counted();
    const file = join(base, "grub");
    await writeFile(file, "a\n", { mode: 0o640 });
    await host.readFile(file);
    await host.run(`chmod 600 ${file}`);
    reads.length = 0;
    await host.planned.record({ path: file, type: "file", content: "b\n" });
    expect(reads).toContain(`readFile ${file}`);
    expect((await host.stat(file)).mode).toBe("0600");
  });

  test("a new directory deep under missing ones: its parents are stat'ed at once and planned", async () => {
    const { host, reads, widest, base } = await counted();
    await mkdir(join(base, "etc"));
    const path = join(base, "etc/systemd/system/redis.service.d");
    expect((await host.stat(path)).exists).toBe(false);
    reads.length = 0;
    await host.planned.record({ path, type: "directory", mode: "0750" });
    // the probe's lstat said absent: only the parents are read, all in flight together
    expect(reads.every((r) => r.startsWith("stat "))).toBe(true);
    expect(widest()).toBeGreaterThanOrEqual(reads.length);
    expect((await host.stat(join(base, "etc/systemd"))).type).toBe("directory");
    expect((await host.stat(join(base, "etc/systemd/system"))).type).toBe("directory");
    expect((await host.stat(path)).mode).toBe("0750");
    expect((await host.stat(join(base, "etc"))).exists).toBe(true);
  });
});
