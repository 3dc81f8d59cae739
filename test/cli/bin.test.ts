import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = `${root}dist/cli/main.js`;

beforeAll(() => {
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
