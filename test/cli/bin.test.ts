import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = `${root}dist/cli/main.js`;

beforeAll(() => {
  mkdirSync(join(root, ".tmp"), { recursive: true });
  if (existsSync(bin)) return;
  const build = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
}, 300_000);

describe("the built bin", () => {
  it("starts with a node shebang and prints the package version", () => {
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const { version } = JSON.parse(readFileSync(`${root}package.json`, "utf8"));
    const r = spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it("exits 5 on a bad TICKLESS_HEAP_GROWING_PERCENT before anything runs, naming it", () => {
    const env = { ...process.env, TICKLESS_HEAP_GROWING_PERCENT: "lots" };
    const r = spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8", env });
    expect(r.status).toBe(5);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("TICKLESS_HEAP_GROWING_PERCENT: expected a whole number from 0 to 1000");
    expect(r.stderr).toContain('got "lots"');
    const ok = spawnSync(process.execPath, [bin, "--version"], {
      encoding: "utf8",
      env: { ...process.env, TICKLESS_HEAP_GROWING_PERCENT: "0" },
    });
    expect(ok.status).toBe(0);
  });

  it("exits 5 on a bad option and 4 on a missing playbook, without a stack trace", () => {
    const bad = spawnSync(process.execPath, [bin, "run", "x.yml", "--nope"], { encoding: "utf8" });
    expect(bad.status).toBe(5);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    const missing = spawnSync(process.execPath, [bin, "run", "missing.yml"], { encoding: "utf8" });
    expect(missing.status).toBe(4);
    expect(missing.stderr).toContain("missing.yml: no such playbook file");
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("the built library (bundled by npm run build)", () => {
  it("runs a playbook by its package name, with the precompiled validators and tickless's own templates", () => {
    const dir = mkdtempSync(join(root, ".tmp", "built-library-"));
    try {
      const dest = join(dir, "jemalloc.conf");
      writeFileSync(
        join(dir, "play.yml"),
        [
          "- hosts: localhost",
          "  gather_facts: false",
          "  tasks:",
          "    - name: a built-in template, found in the package's templates/",
          "      template:",
          "        src: demo/20-jemalloc.conf.hbs",
          `        dest: ${dest}`,
          "      vars: { ansible_managed: managed, malloc_conf: 'background_thread:true', redis_prefix: /opt/redis }",
          "",
        ].join("\n"),
      );
      // Run from the package directory, so "tickless" resolves to this package (its exports).
      const script = `
        import { createRequire } from "node:module";
        import { runPlaybook } from "tickless";
        const summary = await runPlaybook({ playbook: ${JSON.stringify(join(dir, "play.yml"))} });
        const loaded = Object.keys(createRequire(import.meta.url).cache);
        console.log(JSON.stringify({
          exitCode: summary.exitCode,
          version: (await import("tickless/package.json", { with: { type: "json" } })).default.version,
          precompiled: loaded.filter((f) => f.includes("/dist/playbook/schema/precompiled/")).length,
          ajvCompiler: loaded.some((f) => /[/]ajv[/]dist[/](ajv|core|2020)[.]js$/.test(f)),
        }));`;
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        cwd: root,
        encoding: "utf8",
      });
      expect(r.stderr).toBe("");
      const out = JSON.parse(r.stdout);
      expect(out.exitCode).toBe(0);
      expect(readFileSync(dest, "utf8")).toContain("Environment=MALLOC_CONF=background_thread:true");
      // The playbook's and the template module's schemas came from the build, so ajv never compiled.
      expect(out.precompiled).toBeGreaterThanOrEqual(2);
      expect(out.ajvCompiler).toBe(false);
      expect(readdirSync(join(root, "dist", "chunks")).some((f) => f.endsWith(".js"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
