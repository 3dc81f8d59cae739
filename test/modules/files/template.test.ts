import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { templateModule } from "../../../src/modules/files/template.js";
import { checkPlan, converge, scratchDir, snapshot, testContext } from "../harness.js";

const HERE = new URL("..", import.meta.url).pathname;
const ctx = testContext({ port: 6379, name: "cache" }, HERE);
const SRC = "fixtures/simple.conf.hbs";
const RENDERED = "# managed\nport 6379\nname cache\n";

describe("template", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const conn = new LocalConnection();
  beforeEach(async () => ({ dir, cleanup } = await scratchDir()));
  afterEach(() => cleanup());

  it("plans the rendered content as the diff's after", async () => {
    const dest = join(dir, "redis.conf");
    await writeFile(dest, "port 1\n");
    expect(await checkPlan(templateModule, { src: SRC, dest }, conn, ctx)).toEqual([
      { target: dest, summary: "content differs (7 → 31 bytes)", before: "port 1\n", after: RENDERED },
    ]);
  });

  it("converges, then plans nothing; check mode touches nothing", async () => {
    const dest = join(dir, "redis.conf");
    await writeFile(dest, "port 1\n");
    const before = await snapshot(dest);
    await checkPlan(templateModule, { src: SRC, dest, mode: "0600" }, conn, ctx);
    expect(await snapshot(dest)).toBe(before);
    const run = await converge(templateModule, { src: SRC, dest, mode: "0600", backup: true }, conn, ctx);
    expect(run.replan).toEqual([]);
    expect(await readFile(dest, "utf8")).toBe(RENDERED);
    expect(await readFile(run.result?.backup_file as string, "utf8")).toBe("port 1\n");
    expect(await checkPlan(templateModule, { src: SRC, dest, mode: "0600" }, conn, ctx)).toEqual([]);
  });

  it("does not rewrite an existing file with force false", async () => {
    const dest = join(dir, "redis.conf");
    await writeFile(dest, "mine\n");
    expect(await checkPlan(templateModule, { src: SRC, dest, force: false }, conn, ctx)).toEqual([]);
  });

  it("lets an undefined variable fail the probe", async () => {
    const bare = testContext({}, HERE);
    await expect(checkPlan(templateModule, { src: SRC, dest: join(dir, "x") }, conn, bare)).rejects.toThrow(
      /port/,
    );
  });
});
