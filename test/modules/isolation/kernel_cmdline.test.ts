import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { formatError } from "../../../src/errors.js";
import {
  grubCfgCmdlines,
  mergeParams,
  parseParams,
  setGrubDefault,
} from "../../../src/modules/isolation/grub-cmdline.js";
import {
  type KernelCmdlineArgs,
  type KernelCmdlineState,
  kernelCmdlineModule,
  paramList,
  planKernelCmdline,
  rebootRequired,
} from "../../../src/modules/isolation/kernel_cmdline.js";
import { checkPlan, converge, scratchDir, snapshot, testContext } from "../harness.js";

const FIXTURE = join(import.meta.dirname, "../../isolation/fixtures/grub-mkconfig.sh");
const ISOLATION = { isolcpus: 4, nohz_full: 4, rcu_nocbs: 4 };
const SNIPPET = "/etc/default/grub.d/99-tickless.cfg";
const CFG_WITH =
  "menuentry 'x' {\n\tlinux\t/boot/vmlinuz-6.1 root=UUID=1 ro isolcpus=4 nohz_full=4 rcu_nocbs=4 quiet\n}\n";
const CFG_WITHOUT = "menuentry 'x' {\n\tlinux\t/boot/vmlinuz-6.1 root=UUID=1 ro quiet\n}\n";

/** A probed state: the method's file is also the last source (as grub-mkconfig sources it). */
function state(over: Partial<KernelCmdlineState> = {}): KernelCmdlineState {
  const file = over.file ?? { path: SNIPPET, exists: false, content: "" };
  const grub = { path: "/etc/default/grub", content: 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n' };
  const sources = file.path === grub.path ? [file] : [grub, file];
  return {
    method: "snippet",
    file,
    sources: sources.map((s) => ({ path: s.path, content: s.content })),
    modes: Object.fromEntries(sources.map((s) => [s.path, s === file && !file.exists ? undefined : "0644"])),
    save: { path: "/var/lib/tickless/kernel-cmdline.json", exists: false, data: { version: 1, files: {} } },
    grubCfg: { path: "/boot/grub/grub.cfg", exists: true, content: CFG_WITHOUT },
    mkconfig: "update-grub",
    cmdline: "BOOT_IMAGE=/vmlinuz ro quiet",
    ...over,
  };
}

describe("plan", () => {
  const cases: [string, KernelCmdlineArgs, Partial<KernelCmdlineState>, string[]][] = [
    ["fresh host: snippet + regenerate", { params: ISOLATION }, {}, [SNIPPET, "/boot/grub/grub.cfg"]],
    [
      "converged: snippet and grub.cfg carry the params",
      { params: ISOLATION },
      {
        file: { path: SNIPPET, exists: true, content: "" },
        grubCfg: { path: "/boot/grub/grub.cfg", exists: true, content: CFG_WITH },
      },
      [],
    ],
    [
      "snippet right but grub.cfg stale (a failed update-grub): regenerate only",
      { params: ISOLATION },
      { file: { path: SNIPPET, exists: true, content: "" } },
      ["/boot/grub/grub.cfg"],
    ],
    [
      "absent on a host without the snippet or params: nothing",
      { params: ISOLATION, state: "absent" },
      {},
      [],
    ],
    [
      "absent with the snippet: remove it and regenerate",
      { params: ISOLATION, state: "absent" },
      {
        file: { path: SNIPPET, exists: true, content: "" },
        grubCfg: { path: "/boot/grub/grub.cfg", exists: true, content: CFG_WITH },
      },
      [SNIPPET, "/boot/grub/grub.cfg"],
    ],
  ];
  test.each(cases)("%s", (_name, args, over, targets) => {
    // an existing snippet holds what the module renders for ISOLATION
    const s =
      over.file?.exists && over.file.content === ""
        ? state({ ...over, file: { ...over.file, content: kernelSnippet() } })
        : state(over);
    expect(planKernelCmdline(args, s).map((c) => c.target)).toEqual(targets);
  });

  test("a changed value replaces the old one in the snippet, and the diff shows it", () => {
    const s = state({ file: { path: SNIPPET, exists: true, content: kernelSnippet() } });
    const [change] = planKernelCmdline(
      { params: { isolcpus: "2-5", nohz_full: "2-5", rcu_nocbs: "2-5" } },
      s,
    );
    expect(change.before).toContain("isolcpus=4 nohz_full=4 rcu_nocbs=4");
    expect(change.after).toContain(
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX isolcpus=2-5 nohz_full=2-5 rcu_nocbs=2-5"',
    );
  });

  test("grub_default: edits GRUB_CMDLINE_LINUX, absent gives the original bytes back", () => {
    const original =
      'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="console=ttyS0"\n';
    const file = { path: "/etc/default/grub", exists: true, content: original };
    const [save, add] = planKernelCmdline(
      { params: ISOLATION, method: "grub_default" },
      state({ method: "grub_default", file }),
    );
    // the original is saved before the first change (state: restored puts it back)
    expect(save.target).toBe("/var/lib/tickless/kernel-cmdline.json");
    expect(JSON.parse(save.after ?? "").files["/etc/default/grub"].original).toBe(original);
    expect(add.after).toBe(
      'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="console=ttyS0 isolcpus=4 nohz_full=4 rcu_nocbs=4"\n',
    );
    const edited = { ...file, content: add.after ?? "" };
    const [, remove] = planKernelCmdline(
      { params: ISOLATION, method: "grub_default", state: "absent" },
      state({
        method: "grub_default",
        file: edited,
        grubCfg: { path: "/boot/grub/grub.cfg", exists: true, content: CFG_WITH },
      }),
    );
    expect(remove.after).toBe(original);
  });

  test("grubby: one command for every entry, none when all entries carry the params; the originals saved first", () => {
    const K0 = "/boot/vmlinuz-5.14.0-362.el9.x86_64";
    const K1 = "/boot/vmlinuz-0-rescue-0e5f";
    const entries = [
      { kernel: K0, args: parseParams("ro crashkernel=1G-4G:192M") },
      { kernel: K1, args: parseParams("ro isolcpus=4 nohz_full=4 rcu_nocbs=4") },
    ];
    const grubby = (e: typeof entries, over: Partial<KernelCmdlineState> = {}) =>
      state({
        method: "grubby",
        grubbyEntries: e,
        file: { path: "/etc/default/grub", exists: false, content: "" },
        ...over,
      });
    const [save, c] = planKernelCmdline({ params: ISOLATION }, grubby(entries));
    expect(c.summary).toBe("grubby --update-kernel=ALL --args='isolcpus=4 nohz_full=4 rcu_nocbs=4'");
    expect(save.summary).toBe("save each boot entry's original arguments (state: restored puts them back)");
    expect(JSON.parse(save.after ?? "")).toEqual({
      version: 1,
      files: {},
      grubby: { [K0]: "ro crashkernel=1G-4G:192M", [K1]: "ro isolcpus=4 nohz_full=4 rcu_nocbs=4" },
    });
    const done = entries.map((e) => ({ ...e, args: parseParams("ro isolcpus=4 nohz_full=4 rcu_nocbs=4") }));
    expect(planKernelCmdline({ params: ISOLATION }, grubby(done))).toEqual([]);
    const [r] = planKernelCmdline({ params: ISOLATION, state: "absent" }, grubby(done));
    expect(r.summary).toBe("grubby --update-kernel=ALL --remove-args='isolcpus nohz_full rcu_nocbs'");
    // restored: each saved entry its exact original (every word out, the original's in, in order)
    const data = JSON.parse(save.after ?? "");
    const saved = { path: "/var/lib/tickless/kernel-cmdline.json", exists: true, data };
    expect(
      planKernelCmdline({ params: ISOLATION, state: "restored" }, grubby(done, { save: saved })),
    ).toEqual([
      {
        target: "/var/lib/tickless/kernel-cmdline.json",
        summary: "drop the save (originals given back)",
        before: save.after,
      },
      {
        target: `grubby:${K0}`,
        summary: `grubby --update-kernel=${K0} --remove-args='ro isolcpus=4 nohz_full=4 rcu_nocbs=4' --args='ro crashkernel=1G-4G:192M'`,
        before: "ro isolcpus=4 nohz_full=4 rcu_nocbs=4",
        after: "ro crashkernel=1G-4G:192M",
      },
    ]);
  });

  test("reboot_required compares /proc/cmdline", () => {
    expect(rebootRequired({ params: ISOLATION }, "ro quiet")).toBe(true);
    expect(rebootRequired({ params: ISOLATION }, "ro isolcpus=4 nohz_full=4 rcu_nocbs=4")).toBe(false);
    expect(rebootRequired({ params: ISOLATION }, "ro isolcpus=3 nohz_full=4 rcu_nocbs=4")).toBe(true);
    expect(rebootRequired({ params: ISOLATION, state: "absent" }, "ro quiet")).toBe(false);
    // absent decides by key: another run's CPU set on the running kernel is still to be removed
    expect(rebootRequired({ params: ISOLATION, state: "absent" }, "ro isolcpus=2,6-7 quiet")).toBe(true);
  });

  test("grub.cfg: only the Linux entries count (memtest86+, os-prober and firmware entries never carry the params)", async () => {
    const cfg = await readFile(join(import.meta.dirname, "../fixtures/grub.cfg-debian-memtest"), "utf8");
    const lines = grubCfgCmdlines(cfg);
    expect(lines).toHaveLength(3);
    const isolated = { isolcpus: "4-7", nohz_full: "4-7", rcu_nocbs: "4-7" };
    const snippet = 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX isolcpus=4-7 nohz_full=4-7 rcu_nocbs=4-7"\n';
    const converged = state({
      file: { path: SNIPPET, exists: true, content: snippet },
      grubCfg: { path: "/boot/grub/grub.cfg", exists: true, content: cfg },
    });
    // the snippet is not the module's rendering (no header): only the snippet changes, no "lacks" regeneration
    expect(planKernelCmdline({ params: isolated }, converged).map((c) => c.summary)).toEqual([
      "add isolcpus=4-7 nohz_full=4-7 rcu_nocbs=4-7",
      "regenerate with `update-grub` (defaults changed)",
    ]);
    const rendered = planKernelCmdline({ params: isolated }, converged)[0].after ?? "";
    const done = state({
      file: { path: SNIPPET, exists: true, content: rendered },
      grubCfg: { path: "/boot/grub/grub.cfg", exists: true, content: cfg },
    });
    expect(planKernelCmdline({ params: isolated }, done)).toEqual([]);
    // without section markers, memtest lines are still not Linux entries
    const bare = cfg.replace(/^### (BEGIN|END) .*$/gm, "");
    expect(grubCfgCmdlines(bare)).toHaveLength(4); // the three Debian entries and os-prober's Ubuntu
    // a Linux entry that lacks one of them is still caught
    const stale = cfg.replace("ro single console=ttyS0 isolcpus=4-7", "ro single console=ttyS0");
    expect(
      planKernelCmdline(
        { params: isolated },
        state({ ...done, grubCfg: { path: "/boot/grub/grub.cfg", exists: true, content: stale } }),
      ).map((c) => c.summary),
    ).toEqual([
      "regenerate with `update-grub` (/boot/grub/grub.cfg lacks isolcpus=4-7 nohz_full=4-7 rcu_nocbs=4-7)",
    ]);
  });

  test("a param given twice on a line is not converged (the kernel keeps the first isolcpus=)", () => {
    expect(rebootRequired({ params: ISOLATION }, "ro isolcpus=2 isolcpus=4 nohz_full=4 rcu_nocbs=4")).toBe(
      true,
    );
    expect(rebootRequired({ params: ISOLATION }, "ro isolcpus=4 isolcpus=2 nohz_full=4 rcu_nocbs=4")).toBe(
      true,
    );
  });

  test("helpers", () => {
    expect(paramList({ isolcpus: "managed_irq,domain,4", quiet: true, mitigations: null })).toEqual([
      { key: "isolcpus", value: "managed_irq,domain,4" },
      { key: "quiet" },
      { key: "mitigations" },
    ]);
    expect(mergeParams(parseParams("a=1 b c=3"), parseParams("a=2 d"), "present").map((p) => p.key)).toEqual([
      "a",
      "b",
      "c",
      "d",
    ]);
    expect(setGrubDefault("X=1", parseParams("a=1"))).toBe('X=1\nGRUB_CMDLINE_LINUX="a=1"\n');
    expect(grubCfgCmdlines("  linuxefi /vmlinuz-5 ro a=1\nlinux16 /x b\n")).toHaveLength(2);
  });
});

/** The snippet the module writes for ISOLATION. */
function kernelSnippet(): string {
  const [c] = planKernelCmdline({ params: ISOLATION }, state());
  return c.after ?? "";
}

describe("on a temp tree with the local connection and the grub-mkconfig fixture", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const host = new LocalConnection();
  beforeEach(async () => {
    ({ dir, cleanup } = await scratchDir());
    await mkdir(join(dir, "etc/default"), { recursive: true });
    await mkdir(join(dir, "proc"), { recursive: true });
    await writeFile(
      join(dir, "etc/default/grub"),
      'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n',
    );
    await writeFile(
      join(dir, "proc/cmdline"),
      "BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=UUID=1 ro quiet\n",
    );
  });
  afterEach(() => cleanup());

  const args = (over: Partial<KernelCmdlineArgs> = {}): KernelCmdlineArgs => ({
    params: ISOLATION,
    snippet: join(dir, SNIPPET),
    grub_cfg: join(dir, "boot/grub/grub.cfg"),
    mkconfig_command: `GRUB_MKCONFIG_SYSCONFDIR=${dir}/etc sh ${FIXTURE} -o ${dir}/boot/grub/grub.cfg`,
    proc_root: join(dir, "proc"),
    state_file: join(dir, "var/lib/tickless/kernel-cmdline.json"),
    ...over,
  });
  /** Contents and modes of the defaults, grub.cfg and the save directory (mtimes aside: a put-back rewrites). */
  const tree = async (paths = ["etc/default", "boot/grub/grub.cfg", "var/lib/tickless"]) => {
    const out: Record<string, string> = {};
    const walk = async (p: string): Promise<void> => {
      const st = await stat(p).catch(() => undefined);
      if (!st) out[p.slice(dir.length)] = "absent";
      else if (st.isDirectory()) for (const f of await readdir(p)) await walk(join(p, f));
      else out[p.slice(dir.length)] = `${(st.mode & 0o7777).toString(8)} ${await readFile(p, "utf8")}`;
    };
    for (const p of paths) await walk(join(dir, p));
    return out;
  };
  const mkconfig = (env = "") =>
    `${env} GRUB_MKCONFIG_SYSCONFDIR=${dir}/etc sh ${FIXTURE} -o ${dir}/boot/grub/grub.cfg`;

  test("absent removes by key: a host isolated with 2,6-7, asked to remove isolcpus=4, loses every key and needs a reboot", async () => {
    const other = { isolcpus: "2,6-7", nohz_full: "2,6-7", rcu_nocbs: "2,6-7" };
    const grubBefore = await snapshot(join(dir, "etc/default/grub"));
    expect((await converge(kernelCmdlineModule, args({ params: other }), host)).replan).toEqual([]);
    await writeFile(
      join(dir, "proc/cmdline"),
      "BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=UUID=1 ro quiet isolcpus=2,6-7 nohz_full=2,6-7 rcu_nocbs=2,6-7\n",
    );
    const back = await converge(kernelCmdlineModule, args({ state: "absent" }), host);
    expect(back.changes.map((c) => c.summary)).toEqual([
      "remove snippet",
      expect.stringContaining("regenerate with"),
    ]);
    expect(back.replan).toEqual([]);
    expect(back.report?.reboot_required).toBe(true);
    expect(await snapshot(join(dir, "etc/default/grub.d/99-tickless.cfg"))).toBe("absent");
    expect(await snapshot(join(dir, "etc/default/grub"))).toBe(grubBefore);
    expect(await readFile(join(dir, "boot/grub/grub.cfg"), "utf8")).not.toMatch(
      /isolcpus|nohz_full|rcu_nocbs/,
    );
  });

  test("absent by key in /etc/default/grub: the operator's isolcpus=2,6-7 goes when isolcpus=4 is asked away", async () => {
    await writeFile(
      join(dir, "etc/default/grub"),
      'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="isolcpus=2,6-7 nohz_full=2,6-7"\n',
    );
    await writeFile(join(dir, "proc/cmdline"), "ro quiet isolcpus=2,6-7 nohz_full=2,6-7\n");
    const back = await converge(kernelCmdlineModule, args({ method: "grub_default", state: "absent" }), host);
    expect(back.replan).toEqual([]);
    expect(back.report?.reboot_required).toBe(true);
    expect(await readFile(join(dir, "etc/default/grub"), "utf8")).toContain('GRUB_CMDLINE_LINUX=""');
  });

  test("present converges; grub.cfg carries the params; reboot required; second run is a no-op; absent restores the tree", async () => {
    const grubBefore = await snapshot(join(dir, "etc/default/grub"));
    const check = await checkPlan(kernelCmdlineModule, args(), host);
    expect(check.map((c) => c.summary)).toEqual([
      "add isolcpus=4 nohz_full=4 rcu_nocbs=4",
      expect.stringContaining("regenerate with"),
    ]);
    expect(await snapshot(join(dir, "etc/default/grub.d"))).toBe("absent");

    const first = await converge(kernelCmdlineModule, args(), host);
    expect(first.replan).toEqual([]);
    expect(first.report?.reboot_required).toBe(true);
    const cfg = await readFile(join(dir, "boot/grub/grub.cfg"), "utf8");
    expect(cfg).toMatch(
      /\tlinux\t\/boot\/vmlinuz-\S+ root=\S+ ro {2}isolcpus=4 nohz_full=4 rcu_nocbs=4 quiet\n/,
    );
    expect(cfg).toMatch(/ro single {2}isolcpus=4 nohz_full=4 rcu_nocbs=4\n/);

    const cfgStat = await stat(join(dir, "boot/grub/grub.cfg"));
    const second = await converge(kernelCmdlineModule, args(), host);
    expect(second.changes).toEqual([]);
    expect((await stat(join(dir, "boot/grub/grub.cfg"))).mtimeMs).toBe(cfgStat.mtimeMs);

    const back = await converge(kernelCmdlineModule, args({ state: "absent" }), host);
    expect(back.replan).toEqual([]);
    expect(await snapshot(join(dir, "etc/default/grub.d"))).toBe("absent");
    expect(await snapshot(join(dir, "etc/default/grub"))).toBe(grubBefore);
    expect(await readFile(join(dir, "boot/grub/grub.cfg"), "utf8")).not.toContain("isolcpus");
  });

  test("a host without update-grub: a clear error naming the command", async () => {
    const err = await converge(
      kernelCmdlineModule,
      args({ mkconfig_command: "tickless-no-such-update-grub" }),
      host,
    ).catch((e) => e);
    expect(String(err.message)).toContain("`tickless-no-such-update-grub` not found (rc 127)");
    expect(err.hint).toContain("set mkconfig_command");
  });

  test("the operator's own values elsewhere: exactly one of each after the run, restored gives them back byte for byte", async () => {
    const grub =
      'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet isolcpus=2" # tuned by hand\nGRUB_CMDLINE_LINUX=""\n';
    const local = 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX nohz_full=2 rcu_nocbs=4"\n';
    await writeFile(join(dir, "etc/default/grub"), grub);
    await mkdir(join(dir, "etc/default/grub.d"));
    await writeFile(join(dir, "etc/default/grub.d/50-local.cfg"), local);
    const before = await tree(["etc/default", "var/lib/tickless"]);

    const first = await converge(kernelCmdlineModule, args({ mkconfig_command: mkconfig() }), host);
    expect(first.replan).toEqual([]);
    expect(first.changes.map((c) => `${c.target.slice(dir.length)}: ${c.summary}`)).toEqual([
      "/var/lib/tickless/kernel-cmdline.json: save the original of " +
        `${dir}/etc/default/grub, ${dir}/etc/default/grub.d/50-local.cfg (state: restored puts it back)`,
      "/etc/default/grub: drop its own isolcpus= (the kernel gets each once, from the snippet or the defaults)",
      "/etc/default/grub.d/50-local.cfg: drop its own nohz_full= (the kernel gets each once, from the snippet or the defaults)",
      "/etc/default/grub.d/99-tickless.cfg: add isolcpus=4 nohz_full=4",
      "/boot/grub/grub.cfg: regenerate with `" + mkconfig() + "` (defaults changed)",
    ]);
    expect(await readFile(join(dir, "etc/default/grub"), "utf8")).toBe(
      'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet" # tuned by hand\nGRUB_CMDLINE_LINUX=""\n',
    );
    // rcu_nocbs=4 was there exactly once with the wanted value: left where it is
    expect(await readFile(join(dir, "etc/default/grub.d/50-local.cfg"), "utf8")).toBe(
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX rcu_nocbs=4"\n',
    );
    const cfg = await readFile(join(dir, "boot/grub/grub.cfg"), "utf8");
    for (const line of grubCfgCmdlines(cfg)) {
      for (const key of ["isolcpus", "nohz_full", "rcu_nocbs"]) {
        expect(line.filter((w) => w.key === key)).toEqual([{ key, value: "4" }]);
      }
    }
    expect(cfg).toContain("linux16\t/boot/memtest86+x64.bin console=ttyS0,115200\n");
    const second = await converge(kernelCmdlineModule, args({ mkconfig_command: mkconfig() }), host);
    expect(second.changes).toEqual([]);

    const back = await converge(
      kernelCmdlineModule,
      args({ state: "restored", mkconfig_command: mkconfig() }),
      host,
    );
    expect(back.replan).toEqual([]);
    expect(await tree(["etc/default", "var/lib/tickless"])).toEqual(before);
    expect(await readFile(join(dir, "boot/grub/grub.cfg"), "utf8")).toMatch(
      /ro single {2}nohz_full=2 rcu_nocbs=4\n/,
    );
    // the operator's own words for our keys, which the running kernel keeping is no pending reboot
    expect(back.report?.kept_params).toEqual(["nohz_full=2", "rcu_nocbs=4", "isolcpus=2"]);
  });

  test("update-grub failing leaves nothing half-applied: the files are put back, the error carries its stderr", async () => {
    const before = await tree();
    const err = await converge(
      kernelCmdlineModule,
      args({ mkconfig_command: mkconfig("GRUB_MKCONFIG_FIXTURE_FAIL='/boot: No space left on device'") }),
      host,
    ).catch((e) => e);
    expect(String(err.message)).toMatch(
      /^`.*` failed on localhost \(rc 1\): grub-mkconfig \(fixture\): \/boot: No space left on device; put back \S+\/etc\/default\/grub\.d\/99-tickless\.cfg$/,
    );
    expect(await tree()).toEqual(before);
  });

  test("a regenerated grub.cfg without the params: the files are put back and grub.cfg regenerated from them", async () => {
    await writeFile(join(dir, "etc/default/grub"), 'GRUB_CMDLINE_LINUX="console=ttyS0"\n');
    const before = await tree(["etc/default", "var/lib/tickless"]);
    const res = await converge(
      kernelCmdlineModule,
      args({
        mkconfig_command: mkconfig("GRUB_MKCONFIG_FIXTURE_IGNORE_DEFAULTS=1"),
        method: "grub_default",
        grub_default: join(dir, "etc/default/grub"),
      }),
      host,
    );
    expect(res.result?.failed).toBe(true);
    expect(String(res.result?.msg)).toBe(
      `the regenerated ${dir}/boot/grub/grub.cfg does not carry isolcpus=4 nohz_full=4 rcu_nocbs=4 exactly once on every Linux entry: put back ${dir}/etc/default/grub and regenerated ${dir}/boot/grub/grub.cfg from them`,
    );
    expect(await tree(["etc/default", "var/lib/tickless"])).toEqual(before);
    expect(await readFile(join(dir, "boot/grub/grub.cfg"), "utf8")).not.toContain("isolcpus");
  });

  test("a file tickless cannot follow is refused with its line, nothing written", async () => {
    await writeFile(
      join(dir, "etc/default/grub"),
      'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="$(cat /etc/cmdline.local)"\n',
    );
    const before = await tree();
    const located = { ...testContext(), location: { file: "play.yml", line: 12, column: 7 } };
    const probed = await kernelCmdlineModule.probe(host, args(), located).catch((e) => e);
    expect(formatError(probed)).toBe(
      `play.yml:12:7: ${dir}/etc/default/grub:2: GRUB_CMDLINE_LINUX's value depends on a command substitution $(…) (hint: tickless edits only plain top-level assignments of GRUB_CMDLINE_LINUX(_DEFAULT); simplify the line, or use method: snippet)`,
    );
    for (const method of ["snippet", "grub_default"] as const) {
      const err = await converge(
        kernelCmdlineModule,
        args({ method, grub_default: join(dir, "etc/default/grub") }),
        host,
      ).catch((e) => e);
      expect(String(err.message)).toBe(
        `${dir}/etc/default/grub:2: GRUB_CMDLINE_LINUX's value depends on a command substitution $(…)`,
      );
    }
    expect(await tree()).toEqual(before);
  });

  test("the host's sh has the last word: a value it reads differently (here from its environment) is not written", async () => {
    await writeFile(join(dir, "etc/default/grub"), 'GRUB_CMDLINE_LINUX="$TICKLESS_TEST_CONSOLE quiet"\n');
    const before = await tree();
    process.env.TICKLESS_TEST_CONSOLE = "console=ttyS1";
    try {
      const err = await converge(
        kernelCmdlineModule,
        args({ method: "grub_default", grub_default: join(dir, "etc/default/grub") }),
        host,
      ).catch((e) => e);
      expect(String(err.message)).toContain(
        'the host\'s sh reads the new GRUB defaults differently than tickless computed (GRUB_CMDLINE_LINUX="console=ttyS1 quiet isolcpus=4 nohz_full=4 rcu_nocbs=4"',
      );
    } finally {
      delete process.env.TICKLESS_TEST_CONSOLE;
    }
    expect(await tree()).toEqual(before);
    expect(await snapshot(join(dir, "etc/default/grub.tickless-new"))).toBe("absent");
  });

  test("the module's reboot_required reads proc_root/cmdline", async () => {
    await writeFile(join(dir, "proc/cmdline"), "ro isolcpus=4 nohz_full=4 rcu_nocbs=4\n");
    const s = await kernelCmdlineModule.probe(host, args(), testContext());
    expect(kernelCmdlineModule.report?.(args(), s)?.reboot_required).toBe(false);
  });
});
