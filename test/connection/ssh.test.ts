import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { ConnectionError, formatError } from "../../src/errors.js";
import { startLab } from "../lab/lab.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";

const lab = sharedLab();

describe.skipIf(!lab)("ssh connection on the lab", () => {
  let conns: Connection[] = [];
  let home: string;
  let releaseHome: () => Promise<void>;

  beforeAll(async () => {
    ({ home, release: releaseHome } = await isolateHome());
    conns = await Promise.all(lab!.hosts.map((h) => openSsh(labSettings(lab!, h))));
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await releaseHome();
  });

  test("runs on the 3 hosts at once: each sees its own hostname", async () => {
    const results = await Promise.all(conns.map((c) => c.run("hostname; id -u")));
    expect(results.map((r) => r.stdout)).toEqual(lab!.hosts.map((h) => `${h.name}\n0\n`));
    expect(results.every((r) => r.rc === 0 && r.stderr === "")).toBe(true);
  });

  test("rc, stderr, stdin, cwd and env", async () => {
    const c = conns[0];
    expect(await c.run("echo oops >&2; exit 3")).toEqual({ rc: 3, stdout: "", stderr: "oops\n" });
    expect((await c.run("tr a-z A-Z", { stdin: "hello\n" })).stdout).toBe("HELLO\n");
    expect((await c.run("pwd", { cwd: "/var/lib" })).stdout).toBe("/var/lib\n");
    const missing = await c.run("pwd", { cwd: "/no/such dir" });
    expect(missing.rc).not.toBe(0);
    const env = await c.run('printf "%s|%s" "$A" "$B"', { env: { A: "it's $HOME; `x`", B: "two words" } });
    expect(env.stdout).toBe("it's $HOME; `x`|two words");
  });

  test("many commands in parallel on one connection (more than sshd's session limit)", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => conns[1].run(`echo ${i}`)));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
  });

  test("a command that hangs hits its timeout: rc 124, and the process is gone", async () => {
    const started = Date.now();
    const r = await conns[2].run("sleep 37; echo done", { timeoutMs: 500 });
    expect(r.rc).toBe(124);
    expect(r.stderr).toContain("timed out after 500 ms");
    expect(r.stdout).toBe("");
    expect(Date.now() - started).toBeLessThan(5000);
    await new Promise((res) => setTimeout(res, 300));
    expect((await conns[2].run("pgrep -fx 'sleep 37' || true")).stdout).toBe("");
  });

  test("readFile and stat: content, mode, owner, type, links, absent paths", async () => {
    const c = conns[0];
    // a file no test changes (the user tests add accounts to the lab hosts' own /etc/passwd)
    const shells = await c.readFile("/etc/shells");
    expect(shells).toMatchObject({ exists: true, type: "file", mode: "0644", uid: 0, owner: "root" });
    expect(shells.content?.toString()).toBe(await readFile("/etc/shells", "utf8"));
    expect(shells.size).toBe(shells.content?.length);
    expect(await c.readFile("/etc/no-such-file")).toEqual({ path: "/etc/no-such-file", exists: false });
    const irq = await c.readFile("/proc/irq/24/smp_affinity_list");
    expect(irq.content?.toString()).toBe("0-7\n");
    await c.run("ln -sfn /etc/hostname /tmp/link-to-hostname && mkdir -p /tmp/d");
    expect(await c.stat("/tmp/link-to-hostname")).toMatchObject({
      type: "link",
      linkTarget: "/etc/hostname",
    });
    expect(await c.stat("/tmp/link-to-hostname", { follow: true })).toMatchObject({ type: "file" });
    expect(await c.stat("/tmp/d")).toMatchObject({ type: "directory", exists: true });
    expect(await c.stat("/tmp/nothing")).toEqual({ path: "/tmp/nothing", exists: false });
    const binary = Buffer.from([0, 1, 2, 255, 10, 13, 0]);
    await c.writeFile("/tmp/bin", binary);
    expect((await c.readFile("/tmp/bin")).content).toEqual(binary);
  });

  test("writeFile is atomic with mode and owner, leaves no temp file, keeps an existing mode", async () => {
    const c = conns[1];
    await c.run("mkdir -p /opt/app && rm -f /opt/app/*");
    await c.writeFile("/opt/app/conf", "a=1\n", { mode: "0640", owner: "root", group: "daemon" });
    expect(await c.readFile("/opt/app/conf")).toMatchObject({ mode: "0640", group: "daemon", size: 4 });
    const before = (await c.run("stat -c %i /opt/app/conf")).stdout;
    await c.writeFile("/opt/app/conf", "a=2\n");
    const after = await c.readFile("/opt/app/conf");
    expect(after).toMatchObject({ mode: "0640", group: "daemon" });
    expect(after.content?.toString()).toBe("a=2\n");
    expect((await c.run("stat -c %i /opt/app/conf")).stdout).not.toBe(before);
    expect((await c.run("ls -A /opt/app")).stdout).toBe("conf\n");
    await c.writeFile("/opt/app/new", "x");
    expect((await c.stat("/opt/app/new")).mode).toBe("0644");
    await expect(c.writeFile("/opt/app/bad", "x", { owner: "no-such-user" })).rejects.toThrow(/bad/);
    expect((await c.run("ls -A /opt/app")).stdout).toBe("conf\nnew\n");
    await c.remove("/opt/app/new");
    await c.remove("/opt/app/new");
    await c.remove("/opt/app", { recursive: true });
    expect((await c.stat("/opt/app")).exists).toBe(false);
  });

  test("a recursive removal of / or a top-level system directory is refused before any command", async () => {
    const c = conns[0];
    for (const path of ["/lib-tickless-absent", "/./lib-tickless-absent//"]) {
      await expect(c.remove(path, { recursive: true })).rejects.toThrow(/refusing to remove .* recursively/);
    }
    await c.run("mkdir -p /opt/app2/sub");
    await c.remove("/opt/app2/", { recursive: true });
    expect((await c.stat("/opt/app2")).exists).toBe(false);
  });

  test("writes stay on their host: host 1's upper dir only, not /etc, not host 2", async () => {
    await conns[0].writeFile("/etc/tickless-probe", "from lab1\n");
    expect(await readFile(join(lab!.hosts[0].upper, "etc/tickless-probe"), "utf8")).toBe("from lab1\n");
    expect(existsSync("/etc/tickless-probe")).toBe(false);
    expect(existsSync(join(lab!.hosts[1].upper, "etc/tickless-probe"))).toBe(false);
    expect((await conns[1].stat("/etc/tickless-probe")).exists).toBe(false);
    await conns[0].remove("/etc/tickless-probe");
  });

  test("become root when logged in as root is a no-op (the lab has no sudo)", async () => {
    const r = await conns[0].run("id -un", { become: true, becomeUser: "root" });
    expect(r).toEqual({ rc: 0, stdout: "root\n", stderr: "" });
  });

  test("the become password never appears in output or errors", async () => {
    const secret = "s3cret-Become-Pw";
    const c = await openSsh(
      labSettings(lab!, lab!.hosts[0], { become: true, becomeUser: "nobody", becomePassword: secret }),
    );
    try {
      const r = await c.run("id -un", { stdin: "input\n" });
      expect(`${r.stdout}${r.stderr}`).not.toContain(secret);
      const shown = await c.readFile("/etc/hostname").then(JSON.stringify, formatError);
      expect(shown).not.toContain(secret);
      const history = await conns[0].run("cat /root/.bash_history /tmp/* 2>/dev/null; ps -eo args");
      expect(history.stdout).not.toContain(secret);
    } finally {
      await c.close();
    }
  });

  test("connection refused is a one-line ConnectionError", async () => {
    const err = await openSsh(labSettings(lab!, lab!.hosts[0], { port: 1 })).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toBe("connection refused by 127.0.0.1:1");
  });

  test("a passphrase-protected key opens with TICKLESS_SSH_PASSPHRASE, which no error shows", async () => {
    const key = join(home, "protected_key");
    const passphrase = "correct horse battery";
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-f", key]);
    await appendFile(join(lab!.dir, "authorized_keys"), await readFile(`${key}.pub`));
    const settings = labSettings(lab!, lab!.hosts[0], { privateKeyFile: key });
    delete process.env.TICKLESS_SSH_PASSPHRASE;
    const err = await openSsh(settings).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toContain("set TICKLESS_SSH_PASSPHRASE");
    process.env.TICKLESS_SSH_PASSPHRASE = "wrong passphrase";
    const wrong = await openSsh(settings).catch((e) => e);
    expect(wrong).toBeInstanceOf(ConnectionError);
    expect(formatError(wrong)).not.toContain("wrong passphrase");
    process.env.TICKLESS_SSH_PASSPHRASE = passphrase;
    try {
      const c = await openSsh(settings);
      expect((await c.run("hostname")).stdout).toBe("lab1\n");
      await c.close();
    } finally {
      delete process.env.TICKLESS_SSH_PASSPHRASE;
    }
  });

  test("a server that never answers hits the connect timeout", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const err = await openSsh(labSettings(lab!, lab!.hosts[0], { port, connectTimeoutMs: 500 })).catch(
        (e) => e,
      );
      expect(err).toBeInstanceOf(ConnectionError);
      expect(err.message).toBe(`timed out after 0.5 s connecting to root@127.0.0.1:${port}`);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });

  test("the IRQ fixture, its read-only managed IRQ and the hostname are per host", async () => {
    const r = await conns[1].run(
      "grep -c eth0-TxRx /proc/interrupts; cat /proc/irq/default_smp_affinity; echo 3 > /proc/irq/28/smp_affinity; echo 3 > /proc/irq/24/smp_affinity && cat /proc/irq/24/smp_affinity",
    );
    expect(r.stdout).toBe("4\nff\n3\n");
    expect(r.stderr).toMatch(/Read-only file system/);
    expect((await conns[2].readFile("/proc/irq/24/smp_affinity")).content?.toString()).toBe("ff\n");
  });

  test("a wrong key is an authentication failure", async () => {
    await writeFile(
      join(home, "other_key"),
      await readFile(join(lab!.hosts[0].upper, "..", "ssh_host_ed25519_key")),
    );
    const err = await openSsh(
      labSettings(lab!, lab!.hosts[0], { privateKeyFile: join(home, "other_key") }),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toBe(`authentication failed for root@127.0.0.1:${lab!.hosts[0].port}`);
  });

  test("ProxyJump from the ssh config: host 2 through host 1; host 3 through hosts 1 and 2", async () => {
    const [h1, h2] = lab!.hosts;
    const config = join(home, "ssh_config");
    await writeFile(
      config,
      [
        "Host jumpbox",
        `  HostName ${h1.address}`,
        `  Port ${h1.port}`,
        "  User root",
        `  IdentityFile ${lab!.keyFile}`,
        "Host behind",
        `  HostName ${h2.address}`,
        `  Port ${h2.port}`,
        "  User root",
        `  IdentityFile ${lab!.keyFile}`,
        "  ProxyJump jumpbox",
        "",
      ].join("\n"),
    );
    await writeFile(
      join(home, "two_hops"),
      `Host third\n  ProxyJump root@127.0.0.1:${h1.port},root@127.0.0.1:${h2.port}\n  IdentityFile ${lab!.keyFile}\n`,
    );
    const c = await openSsh(
      { host: "behind", transport: "ssh", knownHostsFile: lab!.knownHostsFile },
      { sshConfigFile: config },
    );
    const h3 = lab!.hosts[2];
    const twoHops = await openSsh(
      {
        host: "third",
        transport: "ssh",
        address: "127.0.0.1",
        port: h3.port,
        user: "root",
        privateKeyFile: lab!.keyFile,
        knownHostsFile: lab!.knownHostsFile,
      },
      { sshConfigFile: join(home, "two_hops") },
    );
    try {
      expect((await c.run("hostname")).stdout).toBe(`${h2.name}\n`);
      expect((await twoHops.run("hostname")).stdout).toBe(`${h3.name}\n`);
      await twoHops.close();
      const sessions = await conns[0].run("ps -eo args | grep -c '^sshd: root' || true");
      expect(Number(sessions.stdout)).toBeGreaterThanOrEqual(2);
    } finally {
      await c.close();
    }
  });
});

describe.skipIf(!lab)("ssh connection drops", () => {
  test("killing one host's sshd: ConnectionError for it, the others keep working", async () => {
    const { release } = await isolateHome();
    const own = await startLab(2, { names: ["drop1", "drop2"] });
    try {
      const [a, b] = await Promise.all(
        own.hosts.map((h) => openSsh(labSettings(own, h, { knownHostsFile: own.knownHostsFile }))),
      );
      const running = a.run("sleep 30").catch((e) => e);
      await new Promise((res) => setTimeout(res, 300));
      await own.kill("drop1");
      expect(await running).toBeInstanceOf(ConnectionError);
      const next = await a.run("true").catch((e) => e);
      expect(next).toBeInstanceOf(ConnectionError);
      expect(next.message).toMatch(/^lost the connection to root@127\.0\.0\.1:\d+/);
      expect((await b.run("hostname")).stdout).toBe("drop2\n");
      await Promise.all([a.close(), b.close()]);
    } finally {
      await own.stop();
      await release();
    }
  });
});
