import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { createScript, randomName, tempfileModule } from "../../../src/modules/files/tempfile.js";
import { coreContext } from "../../support/module-context.js";
import { scratchDir } from "../harness.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await scratchDir()));
afterEach(() => cleanup());

const host = new LocalConnection();

describe("tempfile", () => {
  it("names as Python's tempfile: 8 characters of a-z, 0-9 and _", () => {
    for (let i = 0; i < 50; i++) expect(randomName()).toMatch(/^[a-z0-9_]{8}$/);
  });

  it("creates a new 0600 file each run, prefix ansible. by default, and reports it", async () => {
    const a = await tempfileModule.apply(host, { path: dir, suffix: ".conf" }, coreContext());
    const b = await tempfileModule.apply(host, { path: dir, suffix: ".conf" }, coreContext());
    expect(a.path).not.toBe(b.path);
    expect(a).toMatchObject({ changed: true, state: "file", mode: "0600", size: 0, uid: process.getuid?.() });
    expect(String(a.path)).toMatch(new RegExp(`^${dir}/ansible\\.[a-z0-9_]{8}\\.conf$`));
    expect(((await stat(String(a.path))).mode & 0o777).toString(8)).toBe("600");
    expect((await readdir(dir)).length).toBe(2);
  });

  it("creates a 0700 directory with a prefix", async () => {
    const r = await tempfileModule.apply(
      host,
      { path: dir, state: "directory", prefix: "build-" },
      coreContext(),
    );
    expect(r).toMatchObject({ state: "directory", mode: "0700" });
    expect(path.basename(String(r.path))).toMatch(/^build-[a-z0-9_]{8}$/);
    expect((await stat(String(r.path))).isDirectory()).toBe(true);
  });

  it("takes the host's TMPDIR when no path is given", async () => {
    const res = await host.run(createScript({}, "abcdefgh"), { env: { TMPDIR: dir } });
    expect(res.rc).toBe(0);
    expect(res.stdout.split("\n")[0]).toBe(`${dir}/ansible.abcdefgh`);
  });

  it("fails with Python's errno words in a missing directory", async () => {
    const r = await tempfileModule.apply(host, { path: `${dir}/missing` }, coreContext());
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(
      new RegExp(`^\\[Errno 2\\] No such file or directory: '${dir}/missing/ansible\\.[a-z0-9_]{8}'$`),
    );
  });

  it("does not run in check mode, as Ansible's module lacks check mode support", () => {
    expect(tempfileModule.checkMode).toBe("unsupported");
  });
});
