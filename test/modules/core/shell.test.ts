import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { shellLine, shellModule } from "../../../src/modules/core/shell.js";
import { coreContext } from "../../support/module-context.js";

describe("shell", () => {
  const host = new LocalConnection();
  const ctx = coreContext();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-shell-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("quotes the command line for <executable> -c, keeping quotes and $ intact", async () => {
    expect(shellLine({ cmd: "true", executable: "/bin/bash" })).toBe("/bin/bash -c true");
    const cmd = `echo '$HOME' "a  b" \\\\ \`echo x\``;
    const result = await shellModule.apply(host, { cmd }, ctx);
    expect(result.stdout).toBe("$HOME a  b \\ x");
  });

  it("validates its args", () => {
    const validate = new Ajv().compile(shellModule.args);
    expect(validate({ cmd: "ls | wc", executable: "/bin/bash", chdir: "/" })).toBe(true);
    expect(validate({ argv: ["ls"] })).toBe(false);
  });

  it("runs pipes, redirections and variables through the shell", async () => {
    const result = await shellModule.apply(
      host,
      { cmd: "X=3; echo $X a b | wc -w > n; cat n", chdir: dir },
      ctx,
    );
    expect(result).toMatchObject({ rc: 0, stdout: "3", cmd: "X=3; echo $X a b | wc -w > n; cat n" });
    expect((await readFile(join(dir, "n"), "utf8")).trim()).toBe("3");
  });

  it("uses the given executable", async () => {
    const result = await shellModule.apply(
      host,
      { cmd: 'test -n "$BASH_VERSION" && echo bash', executable: "/bin/bash" },
      ctx,
    );
    expect(result.stdout).toBe("bash");
  });

  it("is skipped when removes is absent, runs when present, then converges", async () => {
    const args = { cmd: "rm stale", chdir: dir, removes: "stale" };
    expect(shellModule.plan(args, await shellModule.probe(host, args, ctx))).toEqual([]);
    await writeFile(join(dir, "stale"), "x");
    const before = await shellModule.probe(host, args, ctx);
    expect(shellModule.plan(args, before)).toEqual([{ target: "rm stale", summary: "run: rm stale" }]);
    expect(await shellModule.apply(host, args, ctx)).toMatchObject({ rc: 0 });
    const after = await shellModule.probe(host, args, ctx);
    expect(shellModule.plan(args, after)).toEqual([]);
    expect(shellModule.report?.(args, after)).toMatchObject({
      msg: "Did not run command since 'stale' does not exist",
    });
  });

  it("fails with the exit code and stderr", async () => {
    const result = await shellModule.apply(host, { cmd: "echo oops >&2; exit 3" }, ctx);
    expect(result).toMatchObject({ failed: true, rc: 3, stderr: "oops", msg: "non-zero return code" });
  });
});
