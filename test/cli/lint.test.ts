import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { LINES, repository } from "../lint/repository.js";
import { removeDir, testdir } from "../support/fs.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = `${root}dist/cli/main.js`;
const dirs: string[] = [];

beforeAll(() => {
  if (existsSync(bin)) return;
  const build = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
}, 300_000);
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeDir(d);
});

/** The built bin, run from the repository's directory as a user would. */
function tickless(cwd: string, ...args: string[]) {
  const env = { PATH: process.env.PATH ?? "", HOME: cwd };
  return spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8", env });
}

async function repo(unsupported: boolean): Promise<string> {
  const dir = await testdir(repository(unsupported), "tickless-lint-cli-");
  dirs.push(dir);
  return dir;
}

describe("tickless lint (the built bin)", () => {
  it("prints one line per finding and the count, and exits 4", async () => {
    const dir = await repo(true);
    const r = tickless(dir, "lint", "site.yml", "-i", "hosts.yml");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(4);
    const out = r.stdout.trimEnd().split("\n");
    expect(out.at(-1)).toBe(`${Object.keys(LINES).length} findings`);
    const located = out.slice(0, -1).map((l) => path.relative(dir, l.split(": ")[0]));
    expect(located.sort()).toEqual(Object.values(LINES).sort());
    expect(r.stdout).toContain(
      `${dir}/site.yml:9:7: unknown module "package" (hint: tickless has no package module:`,
    );
  });

  it("--json gives the same findings as data", async () => {
    const dir = await repo(true);
    const r = tickless(dir, "lint", "--json", "site.yml");
    expect(r.status).toBe(4);
    const doc = JSON.parse(r.stdout) as {
      count: number;
      findings: { file: string; line: number; code: string }[];
    };
    expect(doc.count).toBe(Object.keys(LINES).length);
    expect(doc.findings.find((f) => f.code === "CONFIG_IGNORED")).toMatchObject({
      file: path.join(dir, "ansible.cfg"),
      line: 3,
    });
  });

  it("says so and exits 0 when there is nothing, and validate agrees", async () => {
    const dir = await repo(false);
    const r = tickless(dir, "lint", "site.yml", "-i", "hosts.yml");
    expect(r.stdout).toBe("no findings\n");
    expect(r.status).toBe(0);
    const v = tickless(dir, "validate", "site.yml", "-i", "hosts.yml");
    expect(v.status).toBe(0);
  });

  it("exits 5 without a playbook", async () => {
    const r = tickless(root, "lint");
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/missing required argument 'playbook'.*tickless lint --help/);
  });
});
