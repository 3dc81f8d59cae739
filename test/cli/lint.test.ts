import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { LINES, repository } from "../lint/repository.js";
import { lines, removeDir, testdir } from "../support/fs.js";

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
    // run from the repository, its files are named relative to it
    const located = out.slice(0, -1).map((l) => l.split(": ")[0]);
    expect(located.sort()).toEqual(Object.values(LINES).sort());
    expect(r.stdout).toContain(
      '\nsite.yml:9:7: unknown module "zypper" (hint: tickless has apt and dnf (and yum, and package on apt, dnf or yum hosts) only:',
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

  it("prints the README's example as written", async () => {
    const dir = await testdir(
      {
        "site.yml": lines(
          "- hosts: redis",
          "  become: true",
          "  vars_prompt:",
          "    - name: admin_password",
          "  roles:",
          "    - redis",
        ),
        "roles/redis/tasks/main.yml": lines(
          "- name: install redis",
          "  zypper:",
          "    name: redis-server",
          "- name: configure redis",
          "  template:",
          "    src: redis.conf.j2",
          "    dest: /etc/redis/redis.conf",
        ),
        "roles/redis/templates/redis.conf.j2": lines(
          "port {{ redis_port }}",
          "maxmemory {{ redis_maxmemory | human_to_bytes }}",
        ),
        "group_vars/all.yml": lines(
          "redis_port: 6379",
          "redis_maxmemory: 4G",
          `deploy_password: "{{ lookup('password', '/tmp/deploy') }}"`,
        ),
        "ansible.cfg": lines("[defaults]", "inventory = hosts.yml", "stdout_callback = yaml"),
      },
      "tickless-lint-cli-",
    );
    dirs.push(dir);
    const readme = readFileSync(`${root}README.md`, "utf8");
    const example = readme.split("$ tickless lint site.yml\n")[1].split("```")[0];
    const r = tickless(dir, "lint", "site.yml");
    expect(r.stdout).toBe(example);
    expect(r.status).toBe(4);
  });

  it("exits 5 without a playbook", async () => {
    const r = tickless(root, "lint");
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/missing required argument 'playbook'.*tickless lint --help/);
  });
});
