/**
 * Vault passwords on the command line, from the environment and from ansible.cfg, with vectors made
 * by ansible-vault: a password file, an executable password script, a labelled --vault-id; a wrong
 * password is one located line and a non-zero exit; --json output never holds a decrypted value.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptFile, encryptString, hasAnsibleVault } from "../vault/vectors.js";
import { cli, testdir } from "./helpers.js";

const SECRET = "cli-secret-5e1d";
const SCRIPT = "/usr/bin/script";
const BIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const FILE_SECRET = "cli-file-secret-0c9a";

describe.skipIf(!hasAnsibleVault)("vault passwords from the command line", () => {
  let dir: Awaited<ReturnType<typeof testdir>>;
  const runArgs = (...extra: string[]) => [
    "run",
    "-i",
    dir.file("inv.yml"),
    dir.file("p.yml"),
    "-e",
    `root=${dir.path}`,
    ...extra,
  ];
  beforeAll(async () => {
    dir = await testdir({
      pw: "right password\n",
      wrong: "wrong password\n",
      "prod-pw": "prod password\n",
      "inv.yml": "all:\n  hosts:\n    localhost: { ansible_connection: local }\n",
      "group_vars/all.yml": "",
      "unused.yml": `- hosts: all
  gather_facts: false
  tasks:
    - name: no vaulted value used
      copy: { dest: "{{ root }}/unused.txt", content: "plain\\n" }
`,
      "secrets.yml": `file_secret: ${FILE_SECRET}\n`,
      "p.yml": `- hosts: all
  gather_facts: false
  vars_files: [secrets.yml]
  tasks:
    - name: write
      copy: { dest: "{{ root }}/out.txt", content: "{{ sec }} {{ prod_sec }} {{ file_secret }}\\n" }
`,
    });
    const vars =
      (await encryptString(SECRET, dir.file("pw"), "sec")) +
      (await encryptString(`prod-${SECRET}`, `prod@${dir.file("prod-pw")}`, "prod_sec"));
    await writeFile(dir.file("group_vars/all.yml"), vars);
    await encryptFile(dir.file("secrets.yml"), dir.file("pw"));
    await writeFile(
      dir.file("inv-enc.yml"),
      "all:\n  hosts:\n    localhost: { ansible_connection: local }\n",
    );
    await encryptFile(dir.file("inv-enc.yml"), dir.file("pw"));
    await writeFile(dir.file("hosts-ini"), "[all]\nlocalhost ansible_connection=local\n");
    await encryptFile(dir.file("hosts-ini"), dir.file("pw"));
    await writeFile(dir.file("pw.sh"), "#!/bin/sh\necho 'right password'\n", { mode: 0o755 });
    await writeFile(dir.file("prod-client.sh"), '#!/bin/sh\n[ "$2" = prod ] && echo "prod password"\n', {
      mode: 0o755,
    });
    await writeFile(dir.file("ansible.cfg"), `[defaults]\nvault_password_file = ${dir.file("pw.sh")}\n`);
  }, 60_000);
  afterAll(() => dir.cleanup());

  const written = () => readFile(dir.file("out.txt"), "utf8");
  const expected = `${SECRET} prod-${SECRET} ${FILE_SECRET}\n`;

  it("--vault-password-file and a labelled --vault-id: the file is written, the output holds no secret", async () => {
    const r = await cli(
      runArgs(
        "--vault-password-file",
        dir.file("pw"),
        "--vault-id",
        `prod@${dir.file("prod-pw")}`,
        "--json",
        "--diff",
      ),
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(await written()).toBe(expected);
    expect(r.stdout).toContain('"type":"recap"');
    for (const s of [SECRET, FILE_SECRET]) expect(r.stdout).not.toContain(s);
  });

  it("executable password scripts; a *-client script is asked for its vault id", async () => {
    const r = await cli(
      runArgs("--vault-id", dir.file("pw.sh"), "--vault-id", `prod@${dir.file("prod-client.sh")}`),
    );
    expect(r.code).toBe(0);
    expect(await written()).toBe(expected);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it("ANSIBLE_VAULT_PASSWORD_FILE and ansible.cfg's vault_password_file", async () => {
    const prod = ["--vault-id", `prod@${dir.file("prod-pw")}`];
    const byEnv = await cli(runArgs(...prod), { env: { ANSIBLE_VAULT_PASSWORD_FILE: dir.file("pw") } });
    expect(byEnv.code).toBe(0);
    const byCfg = await cli(runArgs(...prod), { env: { ANSIBLE_CONFIG: dir.file("ansible.cfg") } });
    expect(byCfg.stderr).toBe("");
    expect(byCfg.code).toBe(0);
    expect(await written()).toBe(expected);
  });

  it("a wrong password: Ansible's message with the file, one line, exit 1, no stack trace", async () => {
    const r = await cli(runArgs("--vault-password-file", dir.file("wrong")));
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `${dir.file("secrets.yml")}:1: Decryption failed (no vault secrets were found that could decrypt)`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("no password for a vaulted value in use: the task fails naming file:line and the flags (exit 2)", async () => {
    const r = await cli(runArgs("--vault-password-file", dir.file("pw"), "--json"));
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /group_vars\/all\.yml:\d+:\d+: Decryption failed \(no vault secrets were found that could decrypt\)/,
    );
    expect(r.stdout).not.toContain(SECRET);
  });

  it("vaulted values never used need no password (as Ansible)", async () => {
    const r = await cli(["run", "-i", dir.file("inv.yml"), dir.file("unused.yml"), "-e", `root=${dir.path}`]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(await readFile(dir.file("unused.txt"), "utf8")).toBe("plain\n");
  });

  it.skipIf(!existsSync(SCRIPT) || !existsSync(BIN))(
    "--ask-vault-pass asks on the terminal without echo (the built bin under a pty)",
    async () => {
      const command = [
        BIN,
        ...runArgs("-J", "--vault-id", `prod@${dir.file("prod-pw")}`, "--reporter", "plain"),
      ]
        .map((a) => `'${a}'`)
        .join(" ");
      const child = spawn(SCRIPT, ["-qec", `node ${command}`, "/dev/null"], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        const first = !out.includes("Vault password: ");
        out += chunk.toString();
        if (first && out.includes("Vault password: "))
          setTimeout(() => child.stdin.write("right password\n"), 300);
      });
      const [code] = (await once(child, "exit")) as [number];
      expect(out).toContain("Vault password: ");
      expect(code).toBe(0);
      expect(out).not.toContain("right password");
      expect(out).not.toContain(SECRET);
      expect(await written()).toBe(expected);
    },
    30_000,
  );

  it("an inventory file encrypted with ansible-vault is read", async () => {
    const args = runArgs(
      "--vault-password-file",
      dir.file("pw"),
      "--vault-id",
      `prod@${dir.file("prod-pw")}`,
    );
    args[2] = dir.file("inv-enc.yml");
    expect((await readFile(dir.file("inv-enc.yml"), "utf8")).startsWith("$ANSIBLE_VAULT;1.1;AES256")).toBe(
      true,
    );
    const r = await cli(args);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nlocalhost\s+: ok=1/);
  });

  it("an encrypted INI inventory is refused as an INI inventory, located, with the command that converts it", async () => {
    const args = runArgs("--vault-password-file", dir.file("pw"));
    args[2] = dir.file("hosts-ini");
    expect((await readFile(dir.file("hosts-ini"), "utf8")).startsWith("$ANSIBLE_VAULT;1.1;AES256")).toBe(
      true,
    );
    const r = await cli(args);
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toBe(
      `${dir.file("hosts-ini")}:1:1: INI inventories are not supported; tickless reads YAML inventories ` +
        "(hint: convert it once with `ansible-inventory -i hosts-ini --vault-password-file FILE --list --yaml > hosts.yml`)",
    );
  });

  it("validate reads encrypted vars files with the passwords given, and says which flag is missing", async () => {
    const ok = await cli(["validate", dir.file("p.yml"), "--vault-password-file", dir.file("pw")]);
    expect(ok.stdout).toContain("ok: 1 play, 1 task");
    expect(ok.code).toBe(0);
    const none = await cli(["validate", dir.file("p.yml")]);
    expect(none.code).toBe(4);
    expect(none.stdout).toContain(
      `${dir.file("secrets.yml")}:1: Attempting to decrypt but no vault secrets found`,
    );
    expect(none.stdout).toContain("--vault-password-file");
  });

  it("a missing password file is a bad option (exit 5)", async () => {
    const r = await cli(runArgs("--vault-password-file", dir.file("nope")));
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("The vault password file");
  });
});
