import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ConnectionSettings } from "../../src/connection/types.js";
import { connectionSettings, SECRET_VARS, secretValues } from "../../src/inventory/index.js";

const CASES: [
  what: string,
  host: string,
  vars: Record<string, unknown>,
  expected: Partial<ConnectionSettings>,
][] = [
  ["ssh to the host name by default", "web1", {}, { transport: "ssh", address: "web1" }],
  ["localhost runs locally", "localhost", {}, { transport: "local", address: "localhost" }],
  ["127.0.0.1 runs locally", "127.0.0.1", {}, { transport: "local" }],
  ["localhost with explicit ssh", "localhost", { ansible_connection: "ssh" }, { transport: "ssh" }],
  ["smart means ssh", "h", { ansible_connection: "smart" }, { transport: "ssh" }],
  ["ansible_connection local", "h", { ansible_connection: "local" }, { transport: "local" }],
  [
    "Ansible names",
    "h",
    {
      ansible_host: "10.0.0.5",
      ansible_port: "2222",
      ansible_user: "deploy",
      ansible_ssh_private_key_file: "/k/id",
      ansible_ssh_pass: "pw",
      ansible_become: "yes",
      ansible_become_user: "redis",
      ansible_become_pass: "bpw",
      ansible_ssh_common_args: "-o ProxyJump=bastion",
    },
    {
      address: "10.0.0.5",
      port: 2222,
      user: "deploy",
      privateKeyFile: "/k/id",
      password: "pw",
      become: true,
      becomeUser: "redis",
      becomePassword: "bpw",
    },
  ],
  [
    "ansible_password and ansible_become_password",
    "h",
    { ansible_password: "a", ansible_become_password: "b" },
    { password: "a", becomePassword: "b" },
  ],
  [
    "tickless names win over Ansible names",
    "h",
    {
      ansible_connection: "ssh",
      tickless_connection: "local",
      ansible_host: "a",
      tickless_host: "t",
      ansible_port: 1,
      tickless_port: 2,
      ansible_user: "a",
      tickless_user: "t",
      ansible_become: false,
      tickless_become: true,
      ansible_become_password: "a",
      tickless_become_password: "t",
    },
    { transport: "local", address: "t", port: 2, user: "t", become: true, becomePassword: "t" },
  ],
  [
    "tickless-only settings",
    "h",
    {
      tickless_known_hosts_file: "/kh",
      tickless_host_key_checking: "accept-new",
      tickless_connect_timeout: 5,
      tickless_command_timeout: "1.5",
      tickless_unreachable_timeout: 6,
      tickless_lock_file: "/run/tickless/lock",
    },
    {
      knownHostsFile: "/kh",
      hostKeyChecking: "accept-new",
      connectTimeoutMs: 5000,
      commandTimeoutMs: 1500,
      unreachableTimeoutMs: 6000,
      lockFile: "/run/tickless/lock",
    },
  ],
  ["host key checking as a boolean", "h", { ansible_host_key_checking: false }, { hostKeyChecking: "off" }],
  [
    "~ in key paths",
    "h",
    { tickless_private_key_file: "~/.ssh/lab" },
    { privateKeyFile: join(homedir(), ".ssh/lab") },
  ],
  ["empty values count as unset", "h", { tickless_user: "", ansible_user: "a" }, { user: "a" }],
];

describe("connectionSettings", () => {
  it.each(CASES)("%s", (_what, host, vars, expected) => {
    expect(connectionSettings(host, vars)).toEqual({ host, transport: "ssh", address: host, ...expected });
  });

  const BAD: [vars: Record<string, unknown>, variable: string, hint: string][] = [
    [{ ansible_port: "abc" }, "ansible_port", "1 to 65535"],
    [{ tickless_port: 70000 }, "tickless_port", "1 to 65535"],
    [{ ansible_connection: "winrm" }, "ansible_connection", "`local` or `ssh`"],
    [{ tickless_become: "maybe" }, "tickless_become", "`true` or `false`"],
    [{ tickless_host_key_checking: "loose" }, "tickless_host_key_checking", "accept-new"],
    [{ tickless_connect_timeout: "soon" }, "tickless_connect_timeout", "positive number"],
    [{ tickless_user: ["a"] }, "tickless_user", "plain value"],
    [{ tickless_unreachable_timeout: 0 }, "tickless_unreachable_timeout", "positive number"],
    [{ tickless_lock_file: "lock" }, "tickless_lock_file", "/var/lib/tickless/lock"],
  ];
  it.each(BAD)("rejects %o", (vars, variable, hint) => {
    expect(() => connectionSettings("web1", vars)).toThrowError(
      expect.objectContaining({
        code: "INVENTORY",
        message: expect.stringMatching(new RegExp(`^host \`web1\`: variable \`${variable}\``)),
        hint: expect.stringContaining(hint),
      }),
    );
  });
});

describe("secrets", () => {
  it("lists the password variables and their non-empty values", () => {
    expect(SECRET_VARS).toEqual(
      expect.arrayContaining(["tickless_password", "ansible_become_pass", "ansible_ssh_pass"]),
    );
    const vars = {
      tickless_password: "s1",
      ansible_become_password: "s2",
      ansible_password: "",
      ansible_ssh_pass: "s1",
      other: "x",
    };
    expect(secretValues(vars).sort()).toEqual(["s1", "s2"]);
  });
});

describe("templated connection variables", () => {
  const vars = {
    vault_pw: "hunter2-vault",
    deploy: "deployer",
    tickless_become_password: "{{ vault_pw }}",
    ansible_user: "{{ deploy }}",
  };

  it("are rendered against the host's variables, as Ansible renders them", () => {
    expect(connectionSettings("web1", vars)).toMatchObject({
      becomePassword: "hunter2-vault",
      user: "deployer",
    });
  });

  it("scrub the rendered secret, not only the text as written", () => {
    expect(secretValues(vars)).toContain("hunter2-vault");
  });

  it("an undefined variable in one is a located INVENTORY error naming the variable, not a value", () => {
    const bad = { tickless_become_password: "{{ vault_missing }}", vault_pw: "hunter2-vault" };
    expect(() => connectionSettings("web1", bad)).toThrowError(
      expect.objectContaining({
        code: "INVENTORY",
        message: expect.stringMatching(
          /^host `web1`: variable `tickless_become_password`: cannot render .*vault_missing/,
        ),
      }),
    );
    expect(secretValues(bad)).toEqual(["{{ vault_missing }}"]);
  });
});
