/** The README's first commands and its library example stay true: the example is executed as written. */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helper shared with the benchmark, no types
import { makeRoot } from "../bench/fixtures/make-roots.mjs";

const run = promisify(execFile);
const repo = join(import.meta.dirname, "..");
const readme = readFileSync(join(repo, "README.md"), "utf8");
const scratch = mkdtempSync(join(tmpdir(), "tickless-readme-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Hash of every path, type, mode and content under a directory. */
function treeHash(dir: string): string {
  const h = createHash("sha256");
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      h.update(`${p} ${st.mode}\n`);
      if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest("hex");
}

describe("README", () => {
  it("starts with the two commands a newcomer types", () => {
    const firstBlock = readme.split("```sh\n")[1].split("```")[0];
    expect(firstBlock).toMatch(/^npm install && npm run demo\s/m);
    expect(firstBlock).toMatch(/^npm run test:all\s/m);
    // The second command is the one .ci/run runs.
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
    expect(pkg.scripts["test:all"]).toMatch(/^bash scripts\/test-setup\.sh && /);
    expect(readFileSync(join(repo, ".ci/run"), "utf8")).toMatch(/^npm run test:all /m);
  });

  it("runs its library example as written, in check mode, changing nothing", async () => {
    const example = readme.split("## Using the library")[1].split("```js\n")[1].split("```")[0];
    expect(example).toContain('from "tickless"');
    // Inside the package, so that `import … from "tickless"` resolves to this package (self-reference).
    const dir = join(repo, ".tmp");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `readme-example-${process.pid}.mjs`);
    writeFileSync(file, example);
    const base = join(scratch, "roots");
    makeRoot(base, "localhost");
    const before = treeHash(base);
    try {
      const { stdout } = await run(process.execPath, [file], {
        cwd: repo,
        env: { ...process.env, DEMO_ROOT: base },
      });
      expect(stdout).toMatch(/^exit 0, \d+ changes would be made$/m);
      expect(stdout).toContain("localhost: 07 set GRUB_CMDLINE_LINUX isolation args");
      expect(stdout).toContain("localhost: 09 render grub.d isolation snippet");
    } finally {
      rmSync(file, { force: true });
    }
    expect(treeHash(base)).toBe(before);
  });

  it("`npm run demo` shows no failure, ignored or not, on a fresh fake root, and changes nothing", async () => {
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
    const base = join(scratch, "demo-roots");
    // The script as written, on a scratch directory instead of /tmp/tickless-demo.
    const script = pkg.scripts.demo.replaceAll("/tmp/tickless-demo", base);
    expect(script).not.toBe(pkg.scripts.demo);
    const [makeRoots, playbookRun] = script.split(" && ");
    await run("sh", ["-c", makeRoots], { cwd: repo });
    const before = treeHash(base);
    const { stdout } = await run("sh", ["-c", playbookRun], {
      cwd: repo,
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(stdout).toMatch(
      /^localhost +: ok=\d+ +changed=\d+ +unreachable=0 +failed=0 +skipped=\d+ +rescued=0 +ignored=0$/m,
    );
    expect(stdout).not.toMatch(/fatal|FAILED|ignoring/);
    // the file task 09 plans is there for task 10 to find, in check mode too (the overlay of planned state)
    expect(stdout).toMatch(/^TASK \[10 grub\.d snippet mode\] \**\nok: \[localhost\]$/m);
    expect(stdout).toMatch(/^check mode: nothing was changed; \d+ changes would be made$/m);
    expect(treeHash(base)).toBe(before);
  });
});
