import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionSettings, secretValues } from "../../src/inventory/connection-vars.js";
import { parseYaml } from "../../src/playbook/yaml.js";
import { VaultKeyring, VaultValue, withVault } from "../../src/vault/index.js";
import { encryptFile, encryptString, hasAnsibleVault, passwordFile } from "./vectors.js";

const keyring = (...pairs: [string, string][]) =>
  new VaultKeyring(pairs.map(([id, pw]) => ({ id, password: Buffer.from(pw) })));

describe.skipIf(!hasAnsibleVault)("vault texts made by ansible-vault", () => {
  let dir: string;
  let pw: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tickless-vault-"));
    pw = await passwordFile(dir, "pw", "correct horse");
    await passwordFile(dir, "lab-pw", "lab secret");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** The `!vault` value of an encrypt_string block, parsed as tickless parses YAML. */
  const vaulted = (block: string, ring: VaultKeyring) =>
    withVault(ring, () => (parseYaml(block, "vars.yml").value as Record<string, VaultValue>).secret);

  it.each([
    ["a short ASCII value", "hunter2"],
    ["exactly one AES block (16 bytes)", "0123456789abcdef"],
    ["multi-line text", "line one\nline two\n"],
    ["UTF-8 text", "pässwörd ✓ 秘密"],
    ["one byte short of a block", "0123456789abcde"],
    ["a long value (several blocks)", "x".repeat(1000)],
  ])("encrypt_string 1.1: %s decrypts to the same text", async (_, plain) => {
    const block = await encryptString(plain, pw);
    expect(block).toContain("$ANSIBLE_VAULT;1.1;AES256");
    const value = vaulted(block, keyring(["default", "correct horse"]));
    expect(value).toBeInstanceOf(VaultValue);
    expect(value.reveal()).toBe(plain);
  });

  it("encrypt_string 1.2 with a vault id: the labelled secret opens it, tried before the others", async () => {
    const block = await encryptString("labelled", `lab@${path.join(dir, "lab-pw")}`);
    expect(block).toContain("$ANSIBLE_VAULT;1.2;AES256;lab");
    const ring = keyring(["default", "correct horse"], ["lab", "lab secret"]);
    expect(vaulted(block, ring).reveal()).toBe("labelled");
    expect(ring.revealed.has("labelled")).toBe(true);
  });

  it("a 1.2 text opens with a secret under another id too (vault_id_match is off by default)", async () => {
    const block = await encryptString("any id", `lab@${path.join(dir, "lab-pw")}`);
    expect(vaulted(block, keyring(["other", "lab secret"])).reveal()).toBe("any id");
  });

  it("a wrong password: Ansible's message, located at the value, no plaintext and no stack", async () => {
    const block = await encryptString("topsecret-value", pw);
    const value = vaulted(`# vars\n${block}`, keyring(["default", "wrong"]));
    let err: unknown;
    try {
      value.reveal();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: "VAULT",
      message: "Decryption failed (no vault secrets were found that could decrypt)",
      location: { file: "vars.yml", line: 2 },
    });
    expect(JSON.stringify(err)).not.toContain("topsecret-value");
  });

  it("no password: the error names the flags to pass, only when the value is read", async () => {
    const block = await encryptString("unused", pw);
    const value = vaulted(block, new VaultKeyring());
    expect(() => value.reveal()).toThrow(/no vault secrets found/);
    try {
      value.reveal();
    } catch (e) {
      expect((e as { hint: string }).hint).toMatch(/--vault-password-file/);
    }
  });

  it("a whole vars file encrypted with ansible-vault encrypt is decrypted as it is loaded", async () => {
    const file = path.join(dir, "secrets.yml");
    await writeFile(file, "db_password: s3cret-db\nport: 6380\nlist: [a, b]\n");
    await encryptFile(file, pw);
    const text = await readFile(file, "utf8");
    expect(text.startsWith("$ANSIBLE_VAULT;1.1;AES256")).toBe(true);
    const ring = keyring(["default", "correct horse"]);
    const parsed = withVault(ring, () => parseYaml(text, file));
    expect(parsed.value).toEqual({ db_password: "s3cret-db", port: 6380, list: ["a", "b"] });
    expect(ring.revealedWords.has("s3cret-db")).toBe(true);
    expect(() => withVault(keyring(["default", "nope"]), () => parseYaml(text, file))).toThrow(
      /Decryption failed \(no vault secrets were found that could decrypt\)/,
    );
  });

  it("a tampered ciphertext fails the HMAC check", async () => {
    const block = await encryptString("integrity", pw);
    const lines = block.split("\n");
    const last = lines.findLastIndex((l) => /^\s+[0-9a-f]+$/.test(l));
    lines[last] = lines[last].replace(/[0-9a-f]$/, (c) => (c === "0" ? "1" : "0"));
    const value = vaulted(lines.join("\n"), keyring(["default", "correct horse"]));
    expect(() => value.reveal()).toThrow(/Decryption failed|vault format error/);
  });
});

describe("vault format errors", () => {
  it("an unsupported version or cipher is a located format error", () => {
    const ring = keyring(["default", "x"]);
    const text = "secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES\n  3131\n";
    const value = withVault(
      ring,
      () => (parseYaml(text, "v.yml").value as Record<string, VaultValue>).secret,
    );
    expect(() => value.reveal()).toThrow(/AES cipher could not be found/);
  });

  it("!vault on a mapping is refused at parse time with its line", () => {
    expect(() => parseYaml("a: 1\nb: !vault {x: 1}\n", "v.yml")).toThrow(/!vault tags a string/);
  });
});

describe.skipIf(!hasAnsibleVault)("vaulted connection variables", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tickless-vault-conn-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("a vaulted become password, direct or through a template, is decrypted for the connection and scrubbed", async () => {
    const pw = await passwordFile(dir, "pw", "conn pw");
    const block = await encryptString("sudo-Secret-77", pw, "vault_become");
    const ring = keyring(["default", "conn pw"]);
    const vars = withVault(ring, () => parseYaml(block, "host_vars/web1.yml").value) as Record<
      string,
      unknown
    >;
    expect(secretValues({ ansible_become_password: vars.vault_become })).toEqual([]);
    expect(ring.revealed.size).toBe(0);
    expect(connectionSettings("web1", { ...vars, ansible_become_password: vars.vault_become })).toMatchObject(
      {
        becomePassword: "sudo-Secret-77",
      },
    );
    expect(
      connectionSettings("web1", { ...vars, ansible_become_password: "{{ vault_become }}" }),
    ).toMatchObject({
      becomePassword: "sudo-Secret-77",
    });
    expect(ring.revealed.has("sudo-Secret-77")).toBe(true);
  });
});
