import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { scriptLine, scriptModule, scriptSkip } from "../../../src/modules/core/script.js";
import { fakeContext } from "../../support/module-context.js";

describe("script", () => {
  it("runs the uploaded copy with the arguments as written, through executable, from chdir", () => {
    expect(scriptLine({ cmd: 'w.py "a b" c' }, "/t/w.py")).toBe('/t/w.py "a b" c');
    expect(scriptLine({ cmd: "w.py x", executable: "/usr/bin/python3", chdir: "/a b" }, "/t/w.py")).toBe(
      "cd '/a b' && /usr/bin/python3 /t/w.py x",
    );
  });

  it("says why creates or removes skip it, in Ansible's words", () => {
    expect(scriptSkip({ cmd: "s", creates: "/x" }, { createsExists: true })).toBe(
      "/x exists, matching creates option",
    );
    expect(scriptSkip({ cmd: "s", removes: "/y" }, { removesExists: false })).toBe(
      "/y does not exist, matching removes option",
    );
    expect(scriptSkip({ cmd: "s", creates: "/x" }, { createsExists: false })).toBeUndefined();
  });

  describe("on a local host", () => {
    const host = new LocalConnection();
    let dir: string;
    let tmp: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "tickless-script-"));
      tmp = await mkdtemp(join(tmpdir(), "tickless-script-tmp-"));
      await writeFile(join(dir, "s.sh"), '#!/bin/sh\necho "got $*"\npwd > "$1/where"\n');
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
      await rm(tmp, { recursive: true, force: true });
    });

    it("uploads, runs from chdir and removes its temp directory; a relative chdir fails", async () => {
      const ctx = fakeContext({ baseDir: dir });
      const before = await readdir(tmpdir());
      const result = await scriptModule.apply(host, { cmd: `s.sh ${tmp}`, chdir: "/" }, ctx);
      expect(result).toMatchObject({ rc: 0, stdout: `got ${tmp}\n`, stderr: "" });
      expect(await readFile(join(tmp, "where"), "utf8")).toBe("/\n");
      const left = (await readdir(tmpdir())).filter(
        (n) => n.startsWith("tickless-script.") && !before.includes(n),
      );
      expect(left).toEqual([]);
      const relative = await scriptModule.apply(host, { cmd: "s.sh x", chdir: "rel" }, ctx);
      expect(relative).toMatchObject({
        failed: true,
        msg: "chdir rel must be an absolute path for a Unix-aware remote node",
      });
    });
  });
});
