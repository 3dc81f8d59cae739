/**
 * `tickless status` on fake roots (local connection, `tickless_root` per host): one line per host,
 * --json against its JSON Schema (ajv), --prometheus parsed with the exposition format's rules,
 * exit codes, and not one byte under the roots changed.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Ajv } from "ajv";
import { default as formats } from "ajv-formats";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { openConnection } from "../../src/connection/index.js";
import type { Connection } from "../../src/connection/types.js";
import { hostStatus } from "../../src/index.js";
import { recordText, type TuningRecord } from "../../src/modules/isolation/record.js";
import { notTunedStatus } from "../../src/status/assess.js";
import { renderPrometheus } from "../../src/status/prometheus.js";
import schema from "../../src/status/status.schema.json" with { type: "json" };
import { cli } from "../cli/helpers.js";
import { hashTree, removeDir, tempDir, writeTree } from "../e2e/helpers.js";
import { ISOLATED_4, snippetGrub } from "../modules/isolation/record-fixture.js";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");
const PARAMS = "isolcpus=4 nohz_full=4 rcu_nocbs=4";
const SNIPPET = `GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ${PARAMS}"\n`;
const DROPIN = "[Slice]\nAllowedCPUs=0-3,5-7\n";
const IRQ_SAVE = JSON.stringify({
  version: 1,
  irqs: { "24": { name: "eth0-TxRx-0", smp_affinity_list: "0-7", smp_affinity: "ff" } },
  unchangeable: { "28": "nvme0q0: Input/output error" },
});
const WORKQUEUE = "/sys/devices/virtual/workqueue/cpumask";
const NET = "/sys/class/net";
/** eth0's queues as a multiqueue driver leaves them once the play took CPU 4 out: RPS off on rx-0, on on rx-1. */
const QUEUES = {
  [`${NET.slice(1)}/eth0/queues/rx-0/rps_cpus`]: "00\n",
  [`${NET.slice(1)}/eth0/queues/rx-1/rps_cpus`]: "ef\n",
  [`${NET.slice(1)}/eth0/queues/tx-0/xps_cpus`]: "01\n",
  [`${NET.slice(1)}/eth0/queues/tx-1/xps_cpus`]: "02\n",
};

/**
 * A process under a fake /proc as the kernel lays it out: comm, cmdline (NUL-separated; Redis
 * rewrites its title in place), status (PPid, Cpus_allowed_list), one task/TID per thread with its
 * own comm and status, and `children` in the main thread's task directory.
 */
function proc(
  pid: number,
  o: {
    comm: string;
    title: string;
    ppid: number;
    threads: [tid: number, comm: string, cpus: string][];
    children?: number[];
  },
): Record<string, string> {
  const status = (name: string, tid: number, cpus: string) =>
    `Name:\t${name}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t${pid}\nNgid:\t0\nPid:\t${tid}\nPPid:\t${o.ppid}\nCpus_allowed:\t${cpus}\nCpus_allowed_list:\t${cpus}\nMems_allowed_list:\t0\n`;
  const out: Record<string, string> = {
    [`proc/${pid}/comm`]: `${o.comm}\n`,
    [`proc/${pid}/cmdline`]: `${o.title}\0`,
    [`proc/${pid}/status`]: status(o.comm, pid, o.threads[0][2]),
  };
  for (const [tid, comm, cpus] of o.threads) {
    out[`proc/${pid}/task/${tid}/comm`] = `${comm}\n`;
    out[`proc/${pid}/task/${tid}/status`] = status(comm, tid, cpus);
    out[`proc/${pid}/task/${tid}/children`] =
      tid === pid ? (o.children ?? []).map((c) => `${c} `).join("") : "";
  }
  return out;
}

/** Redis 7 on port 6379 placing its own threads (server_cpulist 4, bio_cpulist 0-3,5-7), saving in a child. */
function redis(main = "4", bio = "0-3,5-7", child = "0-3,5-7"): Record<string, string> {
  return {
    ...proc(812, {
      comm: "redis-server",
      title: "/usr/bin/redis-server 127.0.0.1:6379",
      ppid: 1,
      threads: [
        [812, "redis-server", main],
        [815, "bio_close_file", bio],
        [816, "bio_aof", bio],
        [817, "bio_lazy_free", bio],
        [818, "jemalloc_bg_thd", "0-7"],
      ],
      children: [901],
    }),
    ...proc(901, {
      comm: "redis-server",
      title: "redis-rdb-bgsave 127.0.0.1:6379",
      ppid: 812,
      threads: [[901, "redis-server", child]],
    }),
    ...proc(640, {
      comm: "irqbalance",
      title: "/usr/sbin/irqbalance --foreground",
      ppid: 1,
      threads: [[640, "irqbalance", "0-7"]],
    }),
  };
}

const grubCfg = (params: string) =>
  `### BEGIN /etc/grub.d/10_linux ###\nmenuentry 'Debian' {\n\tlinux\t/boot/vmlinuz-6.1 root=UUID=1 ro ${params} quiet\n}\n### END /etc/grub.d/10_linux ###\n`;

function record(host: string): TuningRecord {
  return {
    version: 1,
    tickless_version: "1.0.0",
    run: {
      run_id: "0b7f6c1e-1111-4222-8333-444455556666",
      time: "2026-12-01T10:00:00.000Z",
      user: "ops",
      controller: "ctl1",
      host,
    },
    playbook: { path: "/srv/playbooks/isolation.yml", sha256: "ab".repeat(32) },
    settings: {
      ...ISOLATED_4,
      grub: snippetGrub("/etc/default/grub.d/99-tickless.cfg", sha(SNIPPET)),
      state_files: [{ path: "/var/lib/tickless/irq-affinity.json", sha256: sha(IRQ_SAVE) }],
      units: [
        { path: "/etc/systemd/system/system.slice.d/50-tickless-allowedcpus.conf", sha256: sha(DROPIN) },
      ],
      workqueue: { cpumask_path: WORKQUEUE, cpus: "0-3,5-7" },
      steering: { off_isolated: true, net_path: NET },
      redis: { unit: "redis-server.service", port: 6379, threads_split: true },
    },
  };
}

/** A tuned host's root: record, GRUB files, drop-in, IRQ save, irqbalance's ban, /proc, /sys. */
function tunedRoot(host: string, over: Record<string, string> = {}): Record<string, string> {
  return {
    [`${host}/var/lib/tickless/applied.json`]: recordText(record(host)),
    [`${host}/var/lib/tickless/irq-affinity.json`]: IRQ_SAVE,
    [`${host}/etc/default/grub.d/99-tickless.cfg`]: SNIPPET,
    [`${host}/etc/systemd/system/system.slice.d/50-tickless-allowedcpus.conf`]: DROPIN,
    [`${host}/boot/grub/grub.cfg`]: grubCfg(PARAMS),
    [`${host}/proc/cmdline`]: `BOOT_IMAGE=/vmlinuz ro ${PARAMS} quiet\n`,
    [`${host}/proc/irq/24/smp_affinity_list`]: "0-3,5-7\n",
    [`${host}/proc/irq/24/effective_affinity_list`]: "2\n",
    [`${host}/proc/irq/28/smp_affinity_list`]: "4\n",
    [`${host}/proc/irq/28/effective_affinity_list`]: "4\n",
    [`${host}/etc/default/irqbalance`]: "#IRQBALANCE_ONESHOT=\nIRQBALANCE_BANNED_CPULIST=4\n",
    [`${host}${WORKQUEUE}`]: "ef\n",
    ...Object.fromEntries(Object.entries(QUEUES).map(([k, v]) => [`${host}/${k}`, v])),
    ...Object.fromEntries(Object.entries(redis()).map(([k, v]) => [`${host}/${k}`, v])),
    ...Object.fromEntries(Object.entries(over).map(([k, v]) => [`${host}/${k}`, v])),
  };
}

/** The exposition format's rules, as a parser: HELP/TYPE before a family's samples, names, labels, escapes. */
function parseExposition(text: string) {
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
  const families = new Map<string, { help?: string; type?: string }>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      expect(meta[2]).toMatch(NAME);
      const f = families.get(meta[2]) ?? {};
      if (meta[1] === "TYPE") expect(["gauge", "counter", "untyped"]).toContain(meta[3]);
      f[meta[1] === "HELP" ? "help" : "type"] = meta[3];
      families.set(meta[2], f);
      continue;
    }
    const m = /^([^{\s]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    expect(m[1]).toMatch(NAME);
    expect(families.get(m[1])?.type, `${m[1]} has its TYPE line before its samples`).toBeDefined();
    const labels: Record<string, string> = {};
    const body = m[2] ?? "";
    const re = /([^=,]+)="((?:[^"\\]|\\[\\"n])*)"(,|$)/y;
    let at = 0;
    while (at < body.length) {
      re.lastIndex = at;
      const l = re.exec(body);
      if (!l) throw new Error(`bad labels: ${body}`);
      expect(l[1]).toMatch(LABEL);
      labels[l[1]] = l[2].replace(/\\(["\\n])/g, (_, c) => (c === "n" ? "\n" : c));
      at = re.lastIndex;
    }
    const value = Number(m[3]);
    expect(Number.isNaN(value)).toBe(false);
    samples.push({ name: m[1], labels, value });
  }
  return { families, samples };
}

describe("tickless status on fake roots", () => {
  let dir: string;
  let inventory: string;
  beforeEach(async () => {
    dir = await tempDir("tickless-status-");
    const hosts = ["clean", "pending", "drifted", "bare", "astray"];
    inventory = join(dir, "inventory.yml");
    await writeTree(join(dir, "roots"), {
      ...tunedRoot("clean"),
      ...tunedRoot("pending", { "proc/cmdline": "BOOT_IMAGE=/vmlinuz ro quiet isolcpus=2\n" }),
      ...tunedRoot("drifted", {
        "proc/irq/24/smp_affinity_list": "3-4\n",
        "boot/grub/grub.cfg": grubCfg("isolcpus=4"),
        "proc/cmdline": "BOOT_IMAGE=/vmlinuz ro isolcpus=4 quiet\n",
        "etc/systemd/system/system.slice.d/50-tickless-allowedcpus.conf": "[Slice]\nAllowedCPUs=0-7\n",
      }),
      "bare/proc/cmdline": "ro quiet isolcpus=2\n",
      ...tunedRoot("astray", {
        "proc/irq/24/effective_affinity_list": "4\n",
        "etc/default/irqbalance": "IRQBALANCE_BANNED_CPULIST=5\n",
        [WORKQUEUE.slice(1)]: "ff\n",
        [`${NET.slice(1)}/eth0/queues/rx-1/rps_cpus`]: "ff\n",
        [`${NET.slice(1)}/eth0/queues/tx-1/xps_cpus`]: "10\n",
        ...redis("0-7", "0-3,5-7", "4"),
      }),
    });
    await writeTree(dir, {
      "inventory.yml": [
        "all:",
        "  vars:",
        "    tickless_connection: local",
        "  hosts:",
        ...hosts.flatMap((h) => [`    ${h}:`, `      tickless_root: ${join(dir, "roots", h)}`]),
        "    gone:",
        "      tickless_connection: ssh",
        "      ansible_host: 127.0.0.1",
        "      ansible_port: 1",
        "",
      ].join("\n"),
    });
  });
  afterEach(() => removeDir(dir));

  test("one line per host; exit 2 for drift and reboot pending, 0 when clean; no byte under the roots changes", async () => {
    const before = await hashTree(join(dir, "roots"));
    const all = await cli(["status", "-i", inventory, "-l", "all:!gone:!astray"]);
    expect(all.stderr).toBe("");
    expect(all.code).toBe(2);
    const lines = all.stdout.trimEnd().split("\n");
    expect(lines).toEqual([
      "clean  tuned isolated=4 housekeeping=0-3,5-7  applied 2026-12-01T10:00:00.000Z run 0b7f6c1e by ops@ctl1  in sync",
      expect.stringMatching(
        /^pending {2}tuned .* {2}REBOOT PENDING \(running kernel lacks isolcpus=4 nohz_full=4 rcu_nocbs=4\)$/,
      ),
      expect.stringMatching(/^drifted {2}tuned .* {2}DRIFT: /),
      "bare  not tuned",
    ]);
    expect(lines[2]).toContain("cmdline (the running kernel lacks nohz_full=4 rcu_nocbs=4)");
    expect(lines[2]).toContain("grub_cfg (1 of 1 Linux entries lack isolcpus=4 nohz_full=4 rcu_nocbs=4)");
    expect(lines[2]).toContain("irq (IRQ 24 (eth0-TxRx-0) on CPU 4)");
    expect(lines[2]).toContain(
      "units (/etc/systemd/system/system.slice.d/50-tickless-allowedcpus.conf (changed))",
    );
    expect(lines[2]).not.toContain("IRQ 28");
    expect((await cli(["status", "-i", inventory, "-l", "clean:bare"])).code).toBe(0);
    expect(await hashTree(join(dir, "roots"))).toEqual(before);
  });

  test("a rollback whose reboot is pending: not tuned, REBOOT PENDING naming what the running kernel still has (exit 2, --json valid); after the reboot: not tuned (exit 0)", async () => {
    const line = (event: string, time: string) =>
      `${JSON.stringify({ version: 1, event, tickless_version: "1.0.0", run: { ...record("back").run, time }, playbook: "/srv/playbooks/x.yml", isolated_cpus: "4", kernel_params: ISOLATED_4.kernel_params })}\n`;
    const root = join(dir, "roots", "back");
    await writeTree(root, {
      "var/lib/tickless/history.jsonl": `${line("applied", "2026-12-01T10:00:00.000Z")}${line("rolled_back", "2026-12-02T10:00:00.000Z")}`,
      "proc/cmdline": `BOOT_IMAGE=/vmlinuz ro ${PARAMS} quiet\n`,
    });
    const inv = join(dir, "back.yml");
    await writeTree(dir, {
      "back.yml": `all:\n  vars:\n    tickless_connection: local\n  hosts:\n    back:\n      tickless_root: ${root}\n`,
    });
    const before = await hashTree(root);
    const pending = await cli(["status", "-i", inv]);
    expect(pending.code).toBe(2);
    expect(pending.stdout).toBe(
      `back  not tuned (rolled back 2026-12-02T10:00:00.000Z run 0b7f6c1e by ops@ctl1)  REBOOT PENDING (running kernel still has ${PARAMS})\n`,
    );
    const json = await cli(["status", "-i", inv, "--json"]);
    const doc = JSON.parse(json.stdout);
    const ajv = new Ajv({ allErrors: true, strict: true });
    (formats as unknown as (a: Ajv) => void)(ajv);
    expect(ajv.validate(schema, doc), JSON.stringify(ajv.errors)).toBe(true);
    expect(doc.hosts[0]).toMatchObject({
      tuned: false,
      reboot_pending: true,
      remaining_params: PARAMS.split(" "),
      last_rollback: { time: "2026-12-02T10:00:00.000Z", user: "ops" },
      drift: [],
    });
    expect(await hashTree(root)).toEqual(before);
    await writeTree(root, { "proc/cmdline": "BOOT_IMAGE=/vmlinuz ro quiet\n" });
    const rebooted = await cli(["status", "-i", inv]);
    expect([rebooted.code, rebooted.stdout]).toEqual([0, "back  not tuned\n"]);
  });

  test("an IRQ the record names that was never moved (irqbalance had placed it) and is on the isolated CPU now: drift naming its number and name", async () => {
    const root = join(dir, "roots", "placed");
    const doc = record("placed");
    doc.settings.irqs = [
      { irq: 24, name: "eth0-TxRx-0" },
      { irq: 30, name: "eth0-TxRx-1" },
    ];
    await writeTree(join(dir, "roots"), {
      ...tunedRoot("placed", {
        "var/lib/tickless/applied.json": recordText(doc),
        "proc/irq/30/smp_affinity_list": "4\n",
        "proc/irq/30/effective_affinity_list": "4\n",
      }),
    });
    const inv = join(dir, "placed.yml");
    await writeTree(dir, {
      "placed.yml": `all:\n  vars:\n    tickless_connection: local\n  hosts:\n    placed:\n      tickless_root: ${root}\n`,
    });
    const r = await cli(["status", "-i", inv, "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).hosts[0].drift).toEqual([
      { check: "irq", detail: "IRQ 30 (eth0-TxRx-1) on CPU 4" },
    ]);
    await writeTree(root, {
      "proc/irq/30/smp_affinity_list": "3\n",
      "proc/irq/30/effective_affinity_list": "3\n",
    });
    expect((await cli(["status", "-i", inv])).code).toBe(0);
  });

  test("--json follows the JSON Schema; an unreachable host is exit 3", async () => {
    const r = await cli(["status", "-i", inventory, "--json"]);
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout);
    const ajv = new Ajv({ allErrors: true, strict: true });
    (formats as unknown as (a: Ajv) => void)(ajv);
    const validate = ajv.compile(schema);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.exit_code).toBe(3);
    const by = Object.fromEntries(doc.hosts.map((h: { host: string }) => [h.host, h]));
    expect(by.gone).toMatchObject({ reachable: false, error: expect.stringContaining("127.0.0.1") });
    expect(by.pending).toMatchObject({ tuned: true, reboot_pending: true, drift: [] });
    expect(by.drifted.drift.map((d: { check: string }) => d.check)).toEqual([
      "cmdline",
      "grub_cfg",
      "irq",
      "units",
    ]);
    // the schema refuses what it should: a check name it does not know
    by.clean.drift.push({ check: "mood", detail: "x" });
    expect(validate(doc)).toBe(false);
  });

  test("what runs now against the record: an IRQ delivered to the isolated CPU, irqbalance's ban, the workqueue mask, the NIC queues' steering masks, Redis's threads, each a named check", async () => {
    const before = await hashTree(join(dir, "roots"));
    const r = await cli(["status", "-i", inventory, "-l", "astray", "--json"]);
    expect([r.code, r.stderr]).toEqual([2, ""]);
    expect(JSON.parse(r.stdout).hosts[0].drift).toEqual([
      { check: "irq_effective", detail: "IRQ 24 (eth0-TxRx-0) delivered to CPU 4" },
      {
        check: "irqbalance",
        detail:
          "/etc/default/irqbalance: IRQBALANCE_BANNED_CPULIST=5 does not ban CPU 4; irqbalance runs (pid 640)",
      },
      {
        check: "workqueue",
        detail: `${WORKQUEUE} is ff (CPUs 0-7), the record says 0-3,5-7`,
      },
      { check: "steering", detail: "eth0 rx-1 rps_cpus ff (CPU 4), eth0 tx-1 xps_cpus 10 (CPU 4)" },
      {
        check: "redis_threads",
        detail:
          "Redis 812 (port 6379): redis-server (TID 812, main) may run on 0-7, expected 4; redis-rdb-bgsave (child 901, background) may run on 4, expected 0-3,5-7",
      },
    ]);
    const line = (await cli(["status", "-i", inventory, "-l", "astray"])).stdout;
    expect(line).toMatch(
      /^astray {2}tuned .* {2}DRIFT: irq_effective \(IRQ 24 .*; irqbalance \(.*; workqueue \(.*; steering \(eth0 rx-1 .*; redis_threads \(Redis 812 /,
    );
    expect(await hashTree(join(dir, "roots"))).toEqual(before);

    // a record written before these checks existed names no workqueue file, no steering and no Redis: those three are not judged
    const file = join(dir, "roots/astray/var/lib/tickless/applied.json");
    const older = JSON.parse(await readFile(file, "utf8"));
    delete older.settings.workqueue;
    delete older.settings.steering;
    delete older.settings.redis;
    await writeTree(dir, { "roots/astray/var/lib/tickless/applied.json": recordText(older) });
    const old = JSON.parse((await cli(["status", "-i", inventory, "-l", "astray", "--json"])).stdout);
    expect(old.hosts[0].drift.map((d: { check: string }) => d.check)).toEqual([
      "irq_effective",
      "irqbalance",
    ]);
  });

  test("one round trip a host: a single script run, no other operation on the connection", async () => {
    const calls: Record<string, string[]> = {};
    const report = await hostStatus({
      inventory,
      limit: "all:!gone",
      connect: async (settings) => {
        const conn = await openConnection(settings);
        const seen: string[] = [];
        calls[settings.host] = seen;
        return new Proxy(conn, {
          get(target, key, receiver) {
            const v = Reflect.get(target, key, receiver);
            if (typeof v !== "function") return v;
            return (...args: unknown[]) => {
              if (key !== "close") seen.push(String(key));
              return v.apply(target, args);
            };
          },
        }) as Connection;
      },
    });
    expect(report.hosts.map((h) => h.host)).toEqual(["clean", "pending", "drifted", "bare", "astray"]);
    expect(calls).toEqual(Object.fromEntries(report.hosts.map((h) => [h.host, ["run"]])));
  });

  test("bad input: no inventory is exit 5 with a hint, a --limit matching nothing is exit 5, a bad --prometheus path is exit 1", async () => {
    const none = await cli(["status"]);
    expect([none.code, none.stderr]).toEqual([
      5,
      "status needs an inventory (hint: tickless status -i INVENTORY [-l PATTERN])\n",
    ]);
    const typo = await cli(["status", "-i", inventory, "-l", "nosuchhost"]);
    expect(typo.code).toBe(5);
    expect(typo.stderr).toMatch(/^no host matched --limit nosuchhost \(hint: /);
    const prom = await cli([
      "status",
      "-i",
      inventory,
      "-l",
      "clean",
      "--prometheus",
      join(dir, "no/such/dir/x.prom"),
    ]);
    expect(prom.code).toBe(1);
    expect(prom.stderr).toContain(`cannot write ${join(dir, "no/such/dir/x.prom")}`);
    expect(prom.stderr).not.toMatch(/\n\s+at /);
  });

  test("a corrupt record or an unknown version is drift naming the file, never a crash", async () => {
    await writeTree(join(dir, "roots"), { "clean/var/lib/tickless/applied.json": '{"version": 3}' });
    const r = await cli(["status", "-i", inventory, "-l", "clean", "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).hosts[0].drift).toEqual([
      {
        check: "record",
        detail: `${join(dir, "roots/clean")}/var/lib/tickless/applied.json has state file version 3; this tickless reads version 1`,
      },
    ]);
  });

  test("--prometheus writes the textfile format: HELP/TYPE, valid names, escaped labels, one drift sample per check", async () => {
    const file = join(dir, "tickless.prom");
    const r = await cli(["status", "-i", inventory, "-l", "all:!gone", "--prometheus", file]);
    expect(r.code).toBe(2);
    const { families, samples } = parseExposition(await readFile(file, "utf8"));
    expect([...families.keys()]).toEqual([
      "tickless_up",
      "tickless_drift",
      "tickless_reboot_pending",
      "tickless_last_apply_timestamp_seconds",
      "tickless_isolated_cpus",
    ]);
    const value = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
    expect(value("tickless_drift", { host: "drifted", check: "irq" })).toBe(1);
    expect(value("tickless_drift", { host: "clean", check: "irq" })).toBe(0);
    for (const check of ["irq_effective", "irqbalance", "workqueue", "steering", "redis_threads"]) {
      expect(value("tickless_drift", { host: "astray", check })).toBe(1);
      expect(value("tickless_drift", { host: "clean", check })).toBe(0);
    }
    expect(value("tickless_reboot_pending", { host: "pending" })).toBe(1);
    expect(value("tickless_last_apply_timestamp_seconds", { host: "clean" })).toBe(
      Date.parse("2026-12-01T10:00:00Z") / 1000,
    );
    expect(value("tickless_isolated_cpus", { host: "clean" })).toBe(1);
    expect(value("tickless_isolated_cpus", { host: "bare" })).toBe(0);

    const odd = parseExposition(renderPrometheus([notTunedStatus('we"ird\\host\nx')]));
    expect(odd.samples[0].labels.host).toBe('we"ird\\host\nx');
  });
});
