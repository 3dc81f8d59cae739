import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { factVars, gatherFacts, parseCmdline, parseFacts, parseOsRelease } from "../../src/facts/index.js";

const here = path.dirname(new URL(import.meta.url).pathname);

describe("parseFacts", () => {
  test("recorded output of a Debian 12 VM (no systemd as PID 1)", async () => {
    const out = await readFile(path.join(here, "fixtures/facts-debian12-vm.txt"), "utf8");
    const f = parseFacts(out);
    expect(f.hostname).toBe("vm");
    expect(f.kernel).toBe("6.18.44-fc-v669");
    expect(f.architecture).toBe("x86_64");
    expect(f.distribution).toBe("Debian");
    expect(f.distribution_version).toBe("12");
    expect(f.distribution_release).toBe("bookworm");
    expect(f.os_family).toBe("Debian");
    expect(f.processor_nproc).toBe(2);
    expect(f.cpus_online).toBe("0-1");
    expect(f.cpus_online_list).toEqual([0, 1]);
    expect((f.cmdline as Record<string, unknown>).console).toBe("ttyS0");
    expect((f.cmdline as Record<string, unknown>).quiet).toBe(true);
    expect(f.service_mgr).toBe("process_api");
  });

  test("a systemd RHEL-like host with isolated CPUs", () => {
    const out = [
      "@@hostname",
      "trade01.example.com",
      "@@kernel",
      "5.14.0-362.el9.x86_64",
      "@@arch",
      "x86_64",
      "@@nproc",
      "8",
      "@@cpu_online",
      "0-3,6-9",
      "@@cmdline",
      "BOOT_IMAGE=/vmlinuz ro isolcpus=2-7 nohz_full=2-7 quiet",
      "@@init",
      "systemd",
      "@@systemd",
      "yes",
      "@@os_release",
      'NAME="Rocky Linux"',
      'ID="rocky"',
      'ID_LIKE="rhel centos fedora"',
      'VERSION_ID="9.3"',
    ].join("\n");
    const f = parseFacts(out);
    expect(f.hostname).toBe("trade01");
    expect(f.fqdn).toBe("trade01.example.com");
    expect(f.distribution).toBe("Rocky");
    expect(f.os_family).toBe("RedHat");
    expect(f.cpus_online_list).toEqual([0, 1, 2, 3, 6, 7, 8, 9]);
    expect(f.cmdline).toMatchObject({ isolcpus: "2-7", nohz_full: "2-7", ro: true });
    expect(f.service_mgr).toBe("systemd");
  });

  test("empty sections leave neutral values", () => {
    const f = parseFacts("@@hostname\nh\n@@cpu_online\n@@os_release\n");
    expect(f.cpus_online_list).toEqual([]);
    expect(f.os_family).toBe("unknown");
    expect(f.processor_nproc).toBe(0);
  });
});

test("parseOsRelease unquotes values", () => {
  expect(parseOsRelease('ID=debian\nVERSION_ID="12"\n# c\n')).toEqual({ ID: "debian", VERSION_ID: "12" });
});

test("parseCmdline keeps the last of a repeated key", () => {
  expect(parseCmdline("a=1 b a=2")).toEqual({ a: "2", b: true });
});

test("the host's python, as ansible-core's collectors, on this machine; each fact also as ansible_<name>", async () => {
  const f = await gatherFacts(new LocalConnection(), "/usr/bin/python3");
  const py = f.python as {
    executable: string;
    version: { major: number };
    version_info: unknown[];
    type: string;
  };
  expect(py.executable).toBe("/usr/bin/python3");
  expect(py.version.major).toBe(3);
  expect(py.version_info).toHaveLength(5);
  expect(py.type).toBe("cpython");
  expect(f.python_version).toMatch(/^3\.\d+\.\d+$/);
  expect(f.system).toBe("Linux");
  const vars = factVars(f);
  expect(vars.ansible_python).toBe(f.python);
  expect((vars.ansible_facts as Record<string, unknown>).python_version).toBe(f.python_version);
  // no interpreter answers: no python facts
  expect(parseFacts("@@python\n@@system\nLinux\n").python).toBeUndefined();
});

test("the user facts: the name found, its passwd entry, the real and effective ids", () => {
  const f = parseFacts(
    "@@user\nops\nops:x:1001:1002:Ops Team,,,:/home/ops:/bin/bash\n1001\n0\n1002\n@@system\nLinux\n",
  );
  expect(f).toMatchObject({
    user_id: "ops",
    user_uid: 1001,
    user_gid: 1002,
    user_gecos: "Ops Team,,,",
    user_dir: "/home/ops",
    user_shell: "/bin/bash",
    real_user_id: 1001,
    effective_user_id: 0,
    real_group_id: 1002,
    effective_group_id: 1002,
  });
  // a name without a passwd entry: the ids alone
  const bare = parseFacts("@@user\nghost\n1001\n1001\n1002\n");
  expect(bare.user_id).toBe("ghost");
  expect(bare.user_uid).toBeUndefined();
  expect(bare.real_user_id).toBe(1001);
});
