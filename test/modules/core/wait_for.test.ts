import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { waitForModule, waitScript } from "../../../src/modules/core/wait_for.js";
import { coreContext } from "../../support/module-context.js";

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.end());
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, port: typeof address === "object" && address ? address.port : 0 });
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("wait_for", () => {
  const host = new LocalConnection();
  const ctx = coreContext();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-wait-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("builds one bounded loop", () => {
    expect(waitScript({ path: "/x y", timeout: 2, sleep: 0.1 })).toBe(
      `timeout 2 sh -c "until test -e '/x y'; do sleep 0.1; done"`,
    );
    expect(waitScript({ timeout: 1 })).toBe("sleep 1");
  });

  it("validates its args", () => {
    const validate = new Ajv().compile(waitForModule.args);
    expect(validate({ port: 6379, timeout: 2 })).toBe(true);
    expect(validate({ path: "/x", search_regex: "ready" })).toBe(true);
    expect(validate({ port: 6379, search_regex: "ready" })).toBe(false);
    expect(validate({ port: 6379, path: "/x" })).toBe(false);
    expect(validate({ port: 70000 })).toBe(false);
    expect(validate({ host: "a;rm -rf /", port: 1 })).toBe(false);
  });

  it("returns once a listening port accepts connections", async () => {
    const { server, port } = await listen();
    try {
      const result = await waitForModule.run({ port, timeout: 2, sleep: 0.1 }, ctx, host);
      expect(result).toMatchObject({ state: "started", port });
      expect(result.failed).toBeUndefined();
    } finally {
      await close(server);
    }
  });

  it("times out on a closed port with a clear message", async () => {
    const { server, port } = await listen();
    await close(server);
    const started = Date.now();
    const result = await waitForModule.run({ port, timeout: 1, sleep: 0.1 }, ctx, host);
    expect(result.failed).toBe(true);
    // Ansible's words and whole seconds; the probe's own words and exit code beside them
    expect(result).toMatchObject({ msg: `Timeout when waiting for 127.0.0.1:${port}`, elapsed: 1 });
    expect(result.last_error).toMatch(/^exit 1: .*Connection refused/);
    expect(Date.now() - started).toBeLessThan(2500);
    const stopped = await waitForModule.run({ port, state: "stopped", timeout: 1, sleep: 0.1 }, ctx, host);
    expect(stopped.failed).toBeUndefined();
  });

  it("waits for a file that appears later, and for content to match", async () => {
    const path = join(dir, "ready");
    setTimeout(() => void writeFile(path, "starting\n"), 300);
    setTimeout(() => void writeFile(path, "starting\nReady to accept connections\n"), 600);
    const present = await waitForModule.run({ path, timeout: 2, sleep: 0.1 }, ctx, host);
    expect(present.failed).toBeUndefined();
    const matched = await waitForModule.run(
      { path, search_regex: "Ready to accept", timeout: 2, sleep: 0.1 },
      ctx,
      host,
    );
    expect(matched.failed).toBeUndefined();
    expect(matched).toMatchObject({ search_regex: "Ready to accept", match_groups: [], match_groupdict: {} });
    expect(Number.isInteger(matched.elapsed)).toBe(true);
    const grouped = await waitForModule.run(
      { path, search_regex: "^(?P<word>R\\w+) to (\\w+) connections$", timeout: 2, sleep: 0.1 },
      ctx,
      host,
    );
    // Python's re.MULTILINE over the whole file: groups() and groupdict()
    expect(grouped).toMatchObject({ match_groups: ["Ready", "accept"], match_groupdict: { word: "Ready" } });
  });

  it("fails when content never matches, with the custom msg when given", async () => {
    const path = join(dir, "log");
    await writeFile(path, "nothing here\n");
    const result = await waitForModule.run(
      { path, search_regex: "Ready", timeout: 1, sleep: 0.1, msg: "redis did not start" },
      ctx,
      host,
    );
    // a custom msg is the operator's words as written; the last error is beside it
    expect(result).toMatchObject({
      failed: true,
      msg: "redis did not start",
      last_error: "no match in the file",
    });
    const missing = await waitForModule.run({ path: join(dir, "never"), timeout: 1, sleep: 0.1 }, ctx, host);
    expect(missing.msg).toBe(`Timeout when waiting for file ${join(dir, "never")}`);
    expect(missing.last_error).toMatch(/^exit \d+: ls: cannot access .*never.*: No such file or directory$/);
    const absent = await waitForModule.run({ path, state: "absent", timeout: 1, sleep: 0.1 }, ctx, host);
    expect(absent.msg).toBe(`Timeout when waiting for ${path} to be absent.`);
  });
});
