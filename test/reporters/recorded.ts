/** Recorded event sequences (the shapes the engine emits) for reporter tests. */
import { PassThrough } from "node:stream";
import type { EngineEvent, HostStats, HostStatus, TaskResult } from "../../src/engine/events.js";

const zero: HostStats = { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };

export function stats(partial: Partial<HostStats>): HostStats {
  return { ...zero, ...partial };
}

export function result(status: HostStatus, extra: Partial<TaskResult> = {}): TaskResult {
  return {
    changed: status === "changed",
    failed: status === "failed",
    skipped: status === "skipped",
    ...(status === "unreachable" ? { unreachable: true } : {}),
    ...extra,
  };
}

export function hostResult(
  task: string,
  host: string,
  status: HostStatus,
  extra: Partial<TaskResult> = {},
  more: { item?: string; ignored?: boolean; diff?: boolean } = {},
): EngineEvent {
  return {
    type: "host_result",
    play: "Tune",
    task,
    host,
    status,
    result: result(status, extra),
    diff: false,
    ...more,
  };
}

/** A two-host run: ok, changed with a diff, a loop, an ignored failure, a failure, an unreachable host. */
export function smallRun(): EngineEvent[] {
  const hosts = ["web1", "db-primary-long-name-01"];
  return [
    { type: "playbook_start", file: "/tmp/site.yml", check: false },
    { type: "play_start", play: "Tune", hosts },
    { type: "task_start", play: "Tune", task: "Gather", path: "site.yml:5", hosts },
    hostResult("Gather", "web1", "ok"),
    hostResult("Gather", "db-primary-long-name-01", "ok"),
    { type: "task_end", play: "Tune", task: "Gather" },
    { type: "task_start", play: "Tune", task: "Write config", path: "site.yml:8", hosts },
    hostResult(
      "Write config",
      "web1",
      "changed",
      {
        changes: [{ target: "/etc/app.conf", summary: "content", before: "a=1\nb=2\n", after: "a=1\nb=3\n" }],
      },
      { diff: true },
    ),
    hostResult("Write config", "db-primary-long-name-01", "skipped", { msg: "Conditional result was False" }),
    { type: "task_end", play: "Tune", task: "Write config" },
    { type: "task_start", play: "Tune", task: "Packages", path: "site.yml:12", hosts: ["web1"] },
    hostResult("Packages", "web1", "ok", {}, { item: "redis" }),
    hostResult("Packages", "web1", "changed", {}, { item: "jemalloc" }),
    hostResult("Packages", "web1", "changed", { results: [] }),
    { type: "task_end", play: "Tune", task: "Packages" },
    { type: "task_start", play: "Tune", task: "Maybe", path: "site.yml:15", hosts: ["web1"] },
    hostResult("Maybe", "web1", "failed", { msg: "non-zero return code", rc: 1 }, { ignored: true }),
    { type: "task_end", play: "Tune", task: "Maybe" },
    { type: "task_start", play: "Tune", task: 'Check <xml> & "quotes"', path: "site.yml:18", hosts },
    hostResult('Check <xml> & "quotes"', "web1", "failed", { msg: "bad <value> & \u0001 'x'" }),
    hostResult('Check <xml> & "quotes"', "db-primary-long-name-01", "unreachable", {
      msg: "connect ECONNREFUSED",
    }),
    { type: "task_end", play: "Tune", task: 'Check <xml> & "quotes"' },
    { type: "warning", message: "something odd", host: "web1" },
    { type: "play_end", play: "Tune" },
    {
      type: "recap",
      stats: {
        web1: stats({ ok: 3, changed: 2, failed: 1, ignored: 1 }),
        "db-primary-long-name-01": stats({ ok: 1, skipped: 1, unreachable: 1 }),
      },
      rebootPending: [],
    },
    { type: "playbook_end", exitCode: 3 },
  ];
}

/** One task over `n` hosts: every 10th changes, host 7 fails, the rest are ok. */
export function wideRun(n: number): EngineEvent[] {
  const hosts = Array.from({ length: n }, (_, i) => `host${String(i).padStart(3, "0")}`);
  const status = (i: number): HostStatus => (i === 7 ? "failed" : i % 10 === 3 || n === 1 ? "changed" : "ok");
  return [
    { type: "playbook_start", file: "/tmp/wide.yml", check: false },
    { type: "play_start", play: "Wide", hosts },
    { type: "task_start", play: "Wide", task: "Tune sysctl", path: "wide.yml:4", hosts },
    ...hosts.map((h, i) => ({
      ...hostResult("Tune sysctl", h, status(i), i === 7 ? { msg: "boom" } : {}),
      play: "Wide",
    })),
    { type: "task_end", play: "Wide", task: "Tune sysctl" },
    { type: "play_end", play: "Wide" },
    {
      type: "recap",
      stats: Object.fromEntries(
        hosts.map((h, i) => [
          h,
          stats({
            ok: status(i) === "failed" ? 0 : 1,
            changed: status(i) === "changed" ? 1 : 0,
            failed: status(i) === "failed" ? 1 : 0,
          }),
        ]),
      ),
    },
    { type: "playbook_end", exitCode: 2 },
  ] as EngineEvent[];
}

/** A writable that keeps what was written. */
export function sink(): PassThrough & { text(): string } {
  const stream = new PassThrough() as PassThrough & { text(): string };
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.text = () => Buffer.concat(chunks).toString("utf8");
  return stream;
}
