import { homedir } from "node:os";
import { join } from "node:path";
import SSHConfig from "ssh-config";
import { describe, expect, test } from "vitest";
import { resolveSshTarget } from "../../src/connection/ssh-config.js";

const config = SSHConfig.parse(
  [
    "Host db1",
    "  HostName 10.1.2.3",
    "  Port 2202",
    "  User admin",
    "  IdentityFile ~/.ssh/db_key",
    "  ConnectTimeout 4",
    "  ProxyJump ops@bastion:2200,gw",
    "Host bastion",
    "  HostName bastion.example.com",
    "Host *",
    "  User fallback",
    "",
  ].join("\n"),
);

describe("ssh config resolution", () => {
  test("HostName, Port, User, IdentityFile (~ expanded), ConnectTimeout and ProxyJump hops", () => {
    const t = resolveSshTarget(config, "db1");
    expect(t).toMatchObject({
      host: "10.1.2.3",
      port: 2202,
      user: "admin",
      identityFiles: [join(homedir(), ".ssh", "db_key")],
      connectTimeoutMs: 4000,
    });
    expect(t.jumps.map((j) => [j.user, j.host, j.port])).toEqual([
      ["ops", "bastion.example.com", 2200],
      ["fallback", "gw", 22],
    ]);
  });

  test("inventory values win over the ssh config", () => {
    const t = resolveSshTarget(config, "db1", {
      address: "127.0.0.1",
      port: 2999,
      user: "root",
      privateKeyFile: "/keys/lab",
      connectTimeoutMs: 1500,
    });
    expect(t).toMatchObject({
      host: "127.0.0.1",
      port: 2999,
      user: "root",
      identityFiles: ["/keys/lab"],
      connectTimeoutMs: 1500,
    });
  });

  test("a ProxyJump loop is a located error, not a stack overflow", () => {
    const loop = SSHConfig.parse("Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n");
    expect(() => resolveSshTarget(loop, "a")).toThrow(/ProxyJump for \w+ loops/);
  });

  test("an alias the config does not name connects as itself on port 22", () => {
    expect(resolveSshTarget(new SSHConfig(), "web7")).toMatchObject({ host: "web7", port: 22, jumps: [] });
  });
});
