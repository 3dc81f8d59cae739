import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import { ConnectionError } from "../../src/errors.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";

const lab = sharedLab();

describe.skipIf(!lab)("host key checking against the lab's sshd", () => {
  let home: string;
  let releaseHome: () => Promise<void>;
  beforeAll(async () => {
    ({ home, release: releaseHome } = await isolateHome());
  });
  afterAll(() => releaseHome());

  test("strict (the default) refuses an unknown host and says how to add it", async () => {
    const host = lab!.hosts[0];
    const err = await openSsh(labSettings(lab!, host, { knownHostsFile: join(home, "empty") })).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.code).toBe("HOST_KEY");
    expect(err.message).toContain(`[127.0.0.1]:${host.port} is not known`);
    expect(err.hint).toContain(`ssh-keyscan -p ${host.port} 127.0.0.1 >> ~/.ssh/known_hosts`);
  });

  test("a changed key is refused naming the file and line of the old key", async () => {
    const [h1, h2] = lab!.hosts;
    const file = join(home, "changed");
    await writeFile(file, `# lab\n[127.0.0.1]:${h1.port} ${h2.hostKey}\n`);
    for (const policy of ["strict", "accept-new"] as const) {
      const err = await openSsh(
        labSettings(lab!, h1, { knownHostsFile: file, hostKeyChecking: policy }),
      ).catch((e) => e);
      expect(err.code).toBe("HOST_KEY");
      expect(err.message).toContain(`has CHANGED: it differs from the key at ${file}:2`);
    }
  });

  test("accept-new records the key in the first known_hosts file; strict then accepts", async () => {
    const host = lab!.hosts[1];
    const file = join(home, "accepted");
    const c = await openSsh(labSettings(lab!, host, { knownHostsFile: file, hostKeyChecking: "accept-new" }));
    await c.close();
    expect(await readFile(file, "utf8")).toBe(`[127.0.0.1]:${host.port} ${host.hostKey}\n`);
    const again = await openSsh(labSettings(lab!, host, { knownHostsFile: file }));
    expect((await again.run("hostname")).stdout).toBe(`${host.name}\n`);
    await again.close();
  });

  test("off accepts any key", async () => {
    const host = lab!.hosts[2];
    const file = join(home, "wrong");
    await writeFile(file, `[127.0.0.1]:${host.port} ${lab!.hosts[0].hostKey}\n`);
    const c = await openSsh(labSettings(lab!, host, { knownHostsFile: file, hostKeyChecking: "off" }));
    expect((await c.run("hostname")).stdout).toBe(`${host.name}\n`);
    await c.close();
  });

  test("hashed known_hosts entries (ssh-keygen -H) match, also from ~/.ssh/known_hosts", async () => {
    const host = lab!.hosts[2];
    const file = join(home, ".ssh", "known_hosts");
    execFileSync("mkdir", ["-p", join(home, ".ssh")]);
    await writeFile(file, `[127.0.0.1]:${host.port} ${host.hostKey}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    expect(await readFile(file, "utf8")).toMatch(/^\|1\|/);
    const c = await openSsh(labSettings(lab!, host, { knownHostsFile: undefined }));
    expect((await c.run("hostname")).stdout).toBe(`${host.name}\n`);
    await c.close();
  });
});
