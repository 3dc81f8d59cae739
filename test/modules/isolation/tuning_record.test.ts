import { createHash } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { formatError } from "../../../src/errors.js";
import { type TuningRecordArgs, tuningRecordModule } from "../../../src/modules/isolation/tuning_record.js";
import { hashTree } from "../../e2e/helpers.js";
import { checkPlan, converge, scratchDir, testContext } from "../harness.js";
import { ISOLATED_4, snippetGrub } from "./record-fixture.js";

const RUN = {
  run_id: "0b7f6c1e-1111-4222-8333-444455556666",
  user: "ops",
  controller: "ctl1",
  playbook: "/srv/playbooks/isolation.yml",
  playbook_sha256: "ab".repeat(32),
  started: "2026-12-06T05:00:00.000Z",
  tickless_version: "1.2.3",
};
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

describe("tuning_record on a fake root", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const host = new LocalConnection();
  const ctx = () => testContext({ tickless_run: RUN }, dir);
  const state = () => join(dir, "var/lib/tickless");
  const record = () => join(state(), "applied.json");
  const history = () => join(state(), "history.jsonl");
  const cmdline = (text: string) => writeFile(join(dir, "proc/cmdline"), `${text}\n`);
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => "no error",
      (e) => formatError(e),
    );

  beforeEach(async () => {
    ({ dir, cleanup } = await scratchDir());
    await mkdir(join(dir, "proc"), { recursive: true });
    await mkdir(join(dir, "etc/default/grub.d"), { recursive: true });
    await writeFile(join(dir, "etc/default/grub.d/99-tickless.cfg"), "snippet\n");
    await cmdline("BOOT_IMAGE=/vmlinuz ro quiet");
  });
  afterEach(() => cleanup());

  const applied = (over: Partial<TuningRecordArgs> = {}): TuningRecordArgs => ({
    state: "applied",
    dir: state(),
    proc_root: join(dir, "proc"),
    isolated_cpus: "4",
    housekeeping_cpus: "0-3,5-7",
    kernel_params: { isolcpus: "4", nohz_full: "4", rcu_nocbs: 4 },
    grub_method: "snippet",
    grub_files: [join(dir, "etc/default/grub.d/99-tickless.cfg")],
    state_files: [join(state(), "irq-affinity.json")],
    units: [join(dir, "etc/systemd/system/hft.slice")],
    ...over,
  });
  const read = (over: Partial<TuningRecordArgs> = {}): TuningRecordArgs => ({
    state: "read",
    dir: state(),
    proc_root: join(dir, "proc"),
    leftovers: [join(dir, "etc/default/grub.d/99-tickless.cfg")],
    ...over,
  });

  test("applied: check mode writes nothing; the run writes a 0600 record and one history line; a second run changes nothing; a changed file updates it", async () => {
    const before = await hashTree(dir);
    const planned = await checkPlan(tuningRecordModule, applied(), host, ctx());
    expect(planned.map((c) => c.target)).toEqual([record(), history()]);
    expect(await hashTree(dir)).toEqual(before);

    const first = await converge(tuningRecordModule, applied(), host, ctx());
    expect(first.changes.map((c) => c.summary)).toEqual(planned.map((c) => c.summary));
    expect(first.replan).toEqual([]);
    expect(((await stat(record())).mode & 0o777).toString(8)).toBe("600");
    expect(((await stat(history())).mode & 0o777).toString(8)).toBe("600");
    const doc = JSON.parse(await readFile(record(), "utf8"));
    expect(doc).toEqual({
      version: 1,
      tickless_version: "1.2.3",
      run: { run_id: RUN.run_id, time: RUN.started, user: "ops", controller: "ctl1", host: "localhost" },
      playbook: { path: RUN.playbook, sha256: RUN.playbook_sha256 },
      settings: {
        ...ISOLATED_4,
        grub: snippetGrub(join(dir, "etc/default/grub.d/99-tickless.cfg"), sha("snippet\n")),
        state_files: [{ path: join(state(), "irq-affinity.json"), sha256: null }],
        units: [{ path: join(dir, "etc/systemd/system/hft.slice"), sha256: null }],
      },
    });
    const lines = (await readFile(history(), "utf8")).trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ version: 1, event: "applied", isolated_cpus: "4", run: doc.run }),
    ]);

    const second = await converge(tuningRecordModule, applied(), host, ctx());
    expect(second.changes).toEqual([]);
    expect((await readFile(history(), "utf8")).trimEnd().split("\n")).toHaveLength(1);

    await writeFile(join(dir, "etc/default/grub.d/99-tickless.cfg"), "edited by hand\n");
    const third = await converge(tuningRecordModule, applied(), host, ctx());
    expect(third.changes.map((c) => c.summary)).toEqual([
      "update the applied-state record (isolated_cpus=4)",
      "append: applied isolated_cpus=4",
    ]);
    expect((await readFile(history(), "utf8")).trimEnd().split("\n")).toHaveLength(2);
  });

  test("the workqueue file and the Redis tickless status judges are recorded (the split as a boolean, the port as a number); a changed split updates the record", async () => {
    const mask = join(dir, "sys/devices/virtual/workqueue/cpumask");
    const args = applied({
      workqueue_cpumask: mask,
      redis_unit: "redis-server.service",
      redis_port: "6380",
      redis_threads_split: "True",
    });
    await converge(tuningRecordModule, args, host, ctx());
    const doc = JSON.parse(await readFile(record(), "utf8"));
    expect(doc.settings.workqueue).toEqual({ cpumask_path: mask, cpus: "0-3,5-7" });
    expect(doc.settings.redis).toEqual({ unit: "redis-server.service", port: 6380, threads_split: true });
    expect((await converge(tuningRecordModule, args, host, ctx())).changes).toEqual([]);
    const unsplit = await converge(tuningRecordModule, { ...args, redis_threads_split: false }, host, ctx());
    expect(unsplit.changes.map((c) => c.summary)[0]).toBe(
      "update the applied-state record (isolated_cpus=4)",
    );
    expect(JSON.parse(await readFile(record(), "utf8")).settings.redis.threads_split).toBe(false);
  });

  test("whether the play keeps packet steering off the isolated CPUs is recorded with the class/net it reads (the flag as a template renders it); without the path no steering is recorded", async () => {
    const net = join(dir, "sys/class/net");
    const args = applied({ steering_net_path: `${net}/`, steering_off_isolated: "True" });
    await converge(tuningRecordModule, args, host, ctx());
    expect(JSON.parse(await readFile(record(), "utf8")).settings.steering).toEqual({
      off_isolated: true,
      net_path: net,
    });
    expect((await converge(tuningRecordModule, args, host, ctx())).changes).toEqual([]);
    const off = await converge(tuningRecordModule, { ...args, steering_off_isolated: "false" }, host, ctx());
    expect(off.changes.map((c) => c.summary)[0]).toBe("update the applied-state record (isolated_cpus=4)");
    expect(JSON.parse(await readFile(record(), "utf8")).settings.steering.off_isolated).toBe(false);
    await converge(tuningRecordModule, applied(), host, ctx());
    expect(JSON.parse(await readFile(record(), "utf8")).settings).not.toHaveProperty("steering");
  });

  test("a CPU set written as a YAML number is recorded as the CPU list it is", async () => {
    await converge(tuningRecordModule, applied({ isolated_cpus: 4 }), host, ctx());
    expect(JSON.parse(await readFile(record(), "utf8")).settings.isolated_cpus).toBe("4");
    expect((await converge(tuningRecordModule, applied(), host, ctx())).changes).toEqual([]);
  });

  test("applied reports reboot pending from the running command line against the recorded parameters", async () => {
    const pending = await converge(tuningRecordModule, applied(), host, ctx());
    expect(pending.report).toMatchObject({
      reboot_required: true,
      msg: "reboot pending: the running kernel lacks isolcpus=4 nohz_full=4 rcu_nocbs=4",
    });
    await cmdline("ro quiet isolcpus=4 nohz_full=4 rcu_nocbs=2");
    expect((await converge(tuningRecordModule, applied(), host, ctx())).report).toMatchObject({
      reboot_required: true,
      msg: "reboot pending: the running kernel lacks rcu_nocbs=4",
    });
    await cmdline("ro quiet isolcpus=4 nohz_full=4 rcu_nocbs=4");
    expect((await converge(tuningRecordModule, applied(), host, ctx())).report?.reboot_required).toBe(false);
  });

  test("read: the record's settings; a CPU set given that contradicts it fails naming both values, nothing changed", async () => {
    await converge(tuningRecordModule, applied(), host, ctx());
    const ok = await converge(
      tuningRecordModule,
      read({ expect: { isolated_cpus: "4", housekeeping_cpus: "0,1,2,3,5-7" } }),
      host,
      ctx(),
    );
    expect(ok.changes).toEqual([]);
    expect(ok.report?.reboot_required).toBeUndefined();
    expect(ok.report).toMatchObject({
      exists: true,
      ours: true,
      running_lacks: ["isolcpus=4", "nohz_full=4", "rcu_nocbs=4"],
      kernel_params: { isolcpus: "4", nohz_full: "4", rcu_nocbs: "4" },
    });
    const before = await hashTree(dir);
    expect(
      await failure(converge(tuningRecordModule, read({ expect: { isolated_cpus: "2" } }), host, ctx())),
    ).toBe(
      `isolated_cpus=2 contradicts the record ${record()}: isolated_cpus=4 (nothing was changed) (hint: rollback takes the CPU sets from the record: drop -e isolated_cpus, or give 4)`,
    );
    expect(await hashTree(dir)).toEqual(before);
  });

  test("read without a record: nothing of ours, and an isolcpus= tickless did not put there is named; leftovers of an interrupted apply are ours", async () => {
    await cmdline("ro quiet isolcpus=2");
    const none = await converge(
      tuningRecordModule,
      read({ leftovers: [join(state(), "irq-affinity.json")] }),
      host,
      ctx(),
    );
    expect(none.report).toMatchObject({ exists: false, ours: false, foreign: ["isolcpus=2"] });
    expect(none.report?.msg).toBe(
      `nothing of ours to roll back on localhost (no ${record()}); the running command line has isolcpus=2, which tickless did not put there (left as it is)`,
    );
    const begun = await converge(tuningRecordModule, read(), host, ctx());
    expect(begun.report).toMatchObject({ exists: false, ours: true });
    expect(String(begun.report?.msg)).toMatch(/^no record at .*, but an apply began \(.*99-tickless\.cfg\)/);
  });

  test("a corrupt record or one of an unknown version: an error naming the file, nothing changed", async () => {
    await mkdir(state(), { recursive: true });
    for (const [content, message] of [
      ["{not json", `${record()} is not valid JSON: the applied-state record is corrupt`],
      [
        '{"version": 7, "run": {}, "settings": {}}',
        `${record()} has state file version 7; this tickless reads version 1`,
      ],
      ['{"version": 1}', `${record()} is not a tickless applied-state record (no run or settings)`],
    ]) {
      await writeFile(record(), content);
      const before = await hashTree(dir);
      for (const args of [applied(), read(), applied({ state: "rolled_back" })])
        expect(await failure(converge(tuningRecordModule, args, host, ctx())), args.state).toContain(message);
      expect(await hashTree(dir)).toEqual(before);
    }
  });

  test("rolled_back: the record goes, history keeps a line, reboot pending while the running kernel has the recorded parameters; a second run changes nothing", async () => {
    await converge(tuningRecordModule, applied(), host, ctx());
    await cmdline("ro quiet isolcpus=4 nohz_full=4 rcu_nocbs=4");
    const args: TuningRecordArgs = {
      state: "rolled_back",
      dir: state(),
      proc_root: join(dir, "proc"),
      kernel_params: { isolcpus: "4", nohz_full: "4", rcu_nocbs: "4" },
    };
    const back = await converge(tuningRecordModule, args, host, ctx());
    expect(back.changes.map((c) => c.target)).toEqual([history(), record()]);
    expect(back.replan).toEqual([]);
    expect(back.report).toMatchObject({
      reboot_required: true,
      msg: "reboot pending: the running kernel still has isolcpus=4 nohz_full=4 rcu_nocbs=4",
    });
    expect(await stat(record()).catch(() => "absent")).toBe("absent");
    const events = (await readFile(history(), "utf8"))
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l).event);
    expect(events).toEqual(["applied", "rolled_back"]);
    await cmdline("ro quiet");
    const again = await converge(tuningRecordModule, args, host, ctx());
    expect(again.changes).toEqual([]);
    expect(again.report?.reboot_required).toBe(false);
  });

  test("rolled_back: the operator's own words kept by the restored boot line (kept_params) are no pending reboot, then or later", async () => {
    const params = { isolcpus: "4", nohz_full: "4", rcu_nocbs: "4", nowatchdog: true };
    await converge(tuningRecordModule, applied({ kernel_params: params }), host, ctx());
    await cmdline("ro quiet nowatchdog isolcpus=4 nohz_full=4 rcu_nocbs=4");
    const back = await converge(
      tuningRecordModule,
      {
        state: "rolled_back",
        dir: state(),
        proc_root: join(dir, "proc"),
        kernel_params: params,
        kept_params: ["nowatchdog"],
      },
      host,
      ctx(),
    );
    expect(back.report).toMatchObject({
      reboot_required: true,
      msg: "reboot pending: the running kernel still has isolcpus=4 nohz_full=4 rcu_nocbs=4",
    });
    const last = JSON.parse((await readFile(history(), "utf8")).trimEnd().split("\n").pop() ?? "");
    expect(last).toMatchObject({ event: "rolled_back", kept_params: ["nowatchdog"] });
    // before the reboot: ours, pending; after it the operator's nowatchdog stays, and nothing is ours
    const pending = await converge(tuningRecordModule, read({ leftovers: [] }), host, ctx());
    expect(pending.report).toMatchObject({ exists: false, ours: true });
    await cmdline("ro quiet nowatchdog");
    const after = await converge(tuningRecordModule, read({ leftovers: [] }), host, ctx());
    expect(after.report).toMatchObject({ exists: false, ours: false });
  });

  test("read after a rollback whose reboot is pending: ours (the rollback's parameters, not foreign), so a second rollback can reboot; after the reboot, nothing of ours", async () => {
    await converge(tuningRecordModule, applied(), host, ctx());
    await cmdline("ro quiet isolcpus=4 nohz_full=4 rcu_nocbs=4");
    const params = { isolcpus: "4", nohz_full: "4", rcu_nocbs: "4" };
    await converge(
      tuningRecordModule,
      { state: "rolled_back", dir: state(), proc_root: join(dir, "proc"), kernel_params: params },
      host,
      ctx(),
    );
    const pending = await converge(tuningRecordModule, read({ leftovers: [] }), host, ctx());
    expect(pending.changes).toEqual([]);
    expect(pending.report).toMatchObject({
      exists: false,
      ours: true,
      foreign: [],
      kernel_params: params,
      msg: `no record at ${record()}: rolled back by ops@ctl1 at ${RUN.started}, and the running kernel still has isolcpus=4 nohz_full=4 rcu_nocbs=4: the reboot is pending`,
    });
    // a value the rollback did not take off is the operator's own: named, not ours
    await cmdline("ro quiet isolcpus=2");
    const after = await converge(tuningRecordModule, read({ leftovers: [] }), host, ctx());
    expect(after.report).toMatchObject({ exists: false, ours: false, foreign: ["isolcpus=2"] });
  });
});
