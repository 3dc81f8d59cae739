import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  hostMatches,
  keyTypeOf,
  knownHostName,
  loadKnownHosts,
  parseKnownHosts,
  verifyHostKey,
} from "../../src/connection/known-hosts.js";
import { ConnectionError } from "../../src/errors.js";

/** A real ed25519 public key made by ssh-keygen, as known_hosts base64 and as the handshake blob. */
function newKey(dir: string, name: string): { line: string; blob: Buffer } {
  const file = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
  const [type, base64] = execFileSync("cat", [`${file}.pub`], { encoding: "utf8" })
    .trim()
    .split(" ");
  return { line: `${type} ${base64}`, blob: Buffer.from(base64, "base64") };
}

describe("known_hosts", () => {
  let dir: string;
  let a: { line: string; blob: Buffer };
  let b: { line: string; blob: Buffer };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-kh-"));
    a = newKey(dir, "a");
    b = newKey(dir, "b");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test("names: port 22 plain, other ports bracketed", () => {
    expect(knownHostName("web1", 22)).toBe("web1");
    expect(knownHostName("10.0.0.1", 2222)).toBe("[10.0.0.1]:2222");
  });

  test("parses comments, comma lists, markers and skips malformed lines", () => {
    const text = [
      "# a comment",
      "",
      `web1,10.0.0.1 ${a.line} comment here`,
      `@revoked * ${b.line}`,
      `@cert-authority *.example.com ${a.line}`,
      "garbage",
    ].join("\n");
    const entries = parseKnownHosts(text, "/kh");
    expect(entries.map((e) => [e.line, e.marker, e.hosts, e.keyType])).toEqual([
      [3, undefined, "web1,10.0.0.1", "ssh-ed25519"],
      [4, "revoked", "*", "ssh-ed25519"],
      [5, "cert-authority", "*.example.com", "ssh-ed25519"],
    ]);
    expect(entries[0].key).toEqual(a.blob);
    expect(keyTypeOf(a.blob)).toBe("ssh-ed25519");
  });

  test("host patterns: lists, globs, negation, case", () => {
    expect(hostMatches("web1,10.0.0.1", "10.0.0.1")).toBe(true);
    expect(hostMatches("web*", "WEB7")).toBe(true);
    expect(hostMatches("web?", "web12")).toBe(false);
    expect(hostMatches("*.example.com,!bad.example.com", "bad.example.com")).toBe(false);
    expect(hostMatches("[127.0.0.1]:2222", "[127.0.0.1]:2222")).toBe(true);
    expect(hostMatches("[127.0.0.1]:2222", "127.0.0.1")).toBe(false);
  });

  test("hashed entries written by ssh-keygen -H match via HMAC-SHA1", async () => {
    const file = join(dir, "hashed");
    await writeFile(file, `[127.0.0.1]:2222 ${a.line}\nweb1 ${b.line}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const entries = await loadKnownHosts([file]);
    expect(entries.every((e) => e.hosts.startsWith("|1|"))).toBe(true);
    expect(hostMatches(entries[0].hosts, "[127.0.0.1]:2222")).toBe(true);
    expect(hostMatches(entries[0].hosts, "[127.0.0.1]:2223")).toBe(false);
    expect(hostMatches(entries[1].hosts, "web1")).toBe(true);
    await expect(
      verifyHostKey({ host: "web1", port: 22, policy: "strict", files: [file] }, b.blob),
    ).resolves.toBe(undefined);
  });

  test("strict refuses an unknown host and says how to add it", async () => {
    const err = await verifyHostKey(
      { host: "10.9.9.9", port: 2200, policy: "strict", files: [join(dir, "none")] },
      a.blob,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.code).toBe("HOST_KEY");
    expect(err.message).toContain("[10.9.9.9]:2200 is not known");
    expect(err.hint).toContain("ssh-keyscan -p 2200 10.9.9.9 >> ~/.ssh/known_hosts");
    expect(err.hint).toContain("--host-key-checking accept-new");
  });

  test("a changed key is refused under every policy but off, naming file and line", async () => {
    const file = join(dir, "changed");
    await writeFile(file, `# first\nother ${b.line}\nweb9 ${a.line}\n`);
    for (const policy of ["strict", "accept-new"] as const) {
      const err = await verifyHostKey({ host: "web9", port: 22, policy, files: [file] }, b.blob).catch(
        (e) => e,
      );
      expect(err.code).toBe("HOST_KEY");
      expect(err.message).toContain(`CHANGED`);
      expect(err.message).toContain(`${file}:3`);
    }
    await expect(
      verifyHostKey({ host: "web9", port: 22, policy: "off", files: [file] }, b.blob),
    ).resolves.toBe(undefined);
    expect(await readFile(file, "utf8")).toBe(`# first\nother ${b.line}\nweb9 ${a.line}\n`);
  });

  test("a revoked key is refused", async () => {
    const file = join(dir, "revoked");
    await writeFile(file, `@revoked * ${a.line}\nweb1 ${a.line}\n`);
    const err = await verifyHostKey(
      { host: "web1", port: 22, policy: "strict", files: [file] },
      a.blob,
    ).catch((e) => e);
    expect(err.message).toContain(`@revoked at ${file}:1`);
  });

  test("accept-new appends the key, plain, to the first file; the next check passes strict", async () => {
    const first = join(dir, "sub", "first");
    const check = { host: "127.0.0.1", port: 2022, files: [first, join(dir, "hashed")] };
    await verifyHostKey({ ...check, policy: "accept-new" }, a.blob);
    expect(await readFile(first, "utf8")).toBe(`[127.0.0.1]:2022 ${a.line}\n`);
    await expect(verifyHostKey({ ...check, policy: "strict" }, a.blob)).resolves.toBe(undefined);
  });
});
