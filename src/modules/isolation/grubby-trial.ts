/**
 * kernel_cmdline's trial boot on grubby hosts (`method: grubby`, `trial_boot: true`, `state:
 * present`): the BLS counterpart of grub-trial.ts. No boot entry changes before the new command
 * line has booted once.
 *
 * 1. The entry the host runs now (its kernel is BOOT_IMAGE's file, its `root=` and arguments are
 *    /proc/cmdline's) is added again with the new parameters: `grubby --add-kernel=<its kernel>
 *    --initrd=<its initrd> --title='tickless-trial prepared in boot <boot id>' --args='root=… <its
 *    arguments with the params>'`. grubby-bls writes it as a new BLS file
 *    (`<machine id>-<version>.0~custom.conf`: the kernel's own entry keeps its bytes); the title
 *    names the boot that prepared it, as the GRUB trial's comment does.
 * 2. Its id (the file name without .conf, read back with `grubby --info=ALL`) goes to
 *    `grub2-reboot <id>`: next_entry in grubenv, which RHEL's grub.cfg header boots once and clears
 *    before booting, whatever saved_entry says. Then the reboot and the wait of the `reboot` module.
 * 3. Back with the parameters: `grubby --remove-kernel=TITLE=…` removes the trial entry (by title:
 *    `--remove-kernel=<kernel path>` would remove the kernel's own entry too), then the change as
 *    without a trial (`--update-kernel=ALL --args`, /etc/default/grub in step). Back without them
 *    (a kernel that panics with `panic=N` reboots by itself into the default entry): the trial entry
 *    is removed and the task fails, every entry and /etc/default/grub unchanged.
 */
import { quote } from "shell-quote";
import type { HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { rebootAndWait } from "../system/reboot.js";
import type { Change, ModuleContext, ModuleResult } from "../types.js";
import { atTask } from "../util/at-task.js";
import { applyDefaults } from "./grub-apply.js";
import {
  formatParam,
  type KernelParam,
  linesMatchPresent,
  mergeParams,
  parseParams,
} from "./grub-cmdline.js";
import { TRIAL_ID } from "./grub-trial.js";
import { applyGrubby, type GrubbyEntry, grubbyEntries } from "./grubby.js";
import type { KernelCmdlineState } from "./kernel_cmdline.js";

export const ADD = `${TRIAL_ID}:entry`;
export const REMOVE = `${TRIAL_ID}:remove`;
export const BOOT = `${TRIAL_ID}:boot`;

export interface GrubbyTrialState {
  grubby: string;
  /** A trial entry an earlier run left behind. */
  leftover?: GrubbyEntry;
  /** The running kernel's boot id (the trial entry's title names the boot that prepared it). */
  bootId: string;
  grubReboot: string;
  timeout: number;
  rebootCommand?: string;
  procRoot: string;
}

export const trialTitle = (bootId: string) => `${TRIAL_ID} prepared in boot ${bootId}`;
export const isTrialEntry = (e: GrubbyEntry) =>
  e.title === TRIAL_ID || (e.title ?? "").startsWith(`${TRIAL_ID} `);
const preparedIn = (e: GrubbyEntry) => /prepared in boot (\S+)/.exec(e.title ?? "")?.[1] ?? "";
const words = (params: KernelParam[]) => params.map(formatParam).join(" ");

/** The command that removes the trial entry (by title: by kernel path the kernel's own would go too). */
export const removeCommand = (grubby: string, title: string) =>
  `${grubby} --remove-kernel=${quote([`TITLE=${title}`])}`;

/** The boot id, read with the probe when the task may need a trial (or may find a leftover). */
export async function readGrubbyTrial(
  host: HostReader,
  s: { grubby: string; grubReboot: string; procRoot: string },
  args: { reboot_timeout?: number; reboot_command?: string },
  entries: GrubbyEntry[],
): Promise<GrubbyTrialState> {
  const id = await host.readFile(`${s.procRoot}/sys/kernel/random/boot_id`);
  const leftover = entries.find(isTrialEntry);
  return {
    grubby: s.grubby,
    grubReboot: s.grubReboot,
    timeout: args.reboot_timeout ?? 600,
    procRoot: s.procRoot,
    bootId: id.content?.toString("utf8").trim() ?? "",
    ...(args.reboot_command ? { rebootCommand: args.reboot_command } : {}),
    ...(leftover ? { leftover } : {}),
  };
}

/** The entry the running kernel booted: its kernel file, and its words when several have it. */
export function bootedEntry(entries: GrubbyEntry[], cmdline: string): GrubbyEntry | undefined {
  const running = parseParams(cmdline);
  const image = running.find((w) => w.key === "BOOT_IMAGE")?.value ?? "";
  const base = image.replace(/^\([^)]*\)/, "").replace(/^.*\//, "");
  const rest = words(running.filter((w) => w.key !== "BOOT_IMAGE"));
  const same = entries.filter((e) => e.kernel.replace(/^.*\//, "") === base);
  const line = (e: GrubbyEntry) => words([...(e.root ? [{ key: "root", value: e.root }] : []), ...e.args]);
  return same.find((e) => line(e) === rest) ?? same[0];
}

/** Pure: absent, restored (and present before anything else): a trial entry left behind goes. */
export function leftoverRemoval(t: GrubbyTrialState, stale?: string): Change[] {
  if (!t.leftover) return [];
  const command = removeCommand(t.grubby, t.leftover.title ?? TRIAL_ID);
  return [
    {
      target: REMOVE,
      summary: stale
        ? `remove the trial entry: its boot (prepared in boot ${preparedIn(t.leftover)}) came back without ${stale}; the boot entries are left as they are (\`${command}\`)`
        : `remove the trial entry left by an earlier run (\`${command}\`)`,
    },
  ];
}

/**
 * Pure: the trial's changes before `final` (the grubby and /etc/default/grub changes); none when
 * nothing changes or the running kernel already has the params (the change is made directly).
 */
export function planGrubbyTrial(
  t: GrubbyTrialState,
  entries: GrubbyEntry[],
  cmdline: string,
  params: KernelParam[],
  final: Change[],
): Change[] {
  const wanted = words(params);
  const has = linesMatchPresent([parseParams(cmdline)], params);
  const stale = t.leftover && preparedIn(t.leftover) !== t.bootId && !has;
  const removal = leftoverRemoval(t, stale ? wanted : undefined);
  if (final.length === 0 || has) return [...removal, ...final];
  // a trial that came back without the params is not tried again in the same run
  if (stale) return removal;
  const entry = bootedEntry(entries, cmdline);
  if (!entry) {
    throw new TicklessError(
      "TASK",
      `no boot entry of \`${t.grubby} --info=ALL\` boots what runs now (${cmdline}): no trial boot`,
      {
        hint: "reboot into a kernel grubby lists first, or set trial_boot: false",
      },
    );
  }
  const args = [
    ...(entry.root ? [`root=${entry.root}`] : []),
    words(mergeParams(entry.args, params, "present")),
  ];
  const add = [
    `${t.grubby} --add-kernel=${quote([entry.kernel])}`,
    ...(entry.initrd ? [`--initrd=${quote([entry.initrd])}`] : []),
    `--title=${quote([trialTitle(t.bootId)])}`,
    `--args=${quote([args.join(" ")])}`,
  ].join(" ");
  return [
    ...removal,
    {
      target: ADD,
      summary: `trial entry (the running entry + ${wanted}), removed after its boot: \`${add}\``,
    },
    {
      target: BOOT,
      summary: `boot it once (\`${t.grubReboot} <its id>\`, reboot, ${t.timeout} s to come back with ${wanted}); the boot entries change only then`,
    },
    ...final,
  ];
}

/** The command inside a change's summary (between its last pair of backticks). */
const commandOf = (c: Change) => /`([^`]*)`\)?$/.exec(c.summary)?.[1] ?? "";

/** The grubby changes and /etc/default/grub on `host` (the save first), as without a trial. */
export function grubbyCommit(current: KernelCmdlineState, changes: Change[], ctx: ModuleContext) {
  return async (host: HostWriter): Promise<ModuleResult> => {
    const own = changes.filter((c) => !c.target.startsWith(`${TRIAL_ID}:`));
    const save = { path: current.save.path, change: own.find((c) => c.target === current.save.path) };
    const rest = own.filter((c) => !c.target.startsWith("grubby:"));
    return applyGrubby(host, own, save, async () =>
      rest.length ? atTask(ctx, () => applyDefaults(host, current, rest, () => undefined)) : {},
    );
  };
}

/** Applies the trial's changes; `commit` makes the change on the host that answers after the trial boot. */
export async function applyGrubbyTrial(
  host: HostWriter,
  t: GrubbyTrialState,
  changes: Change[],
  params: KernelParam[],
  ctx: ModuleContext,
  commit: (host: HostWriter) => Promise<ModuleResult>,
): Promise<ModuleResult> {
  const removal = changes.find((c) => c.target === REMOVE);
  const add = changes.find((c) => c.target === ADD);
  if (removal) {
    const r = await host.run(commandOf(removal));
    if (r.rc !== 0)
      return {
        failed: true,
        changed: false,
        msg: `\`${commandOf(removal)}\` failed (rc ${r.rc}): ${r.stderr.trim()}`,
      };
    if (removal.summary.includes("came back without"))
      return {
        failed: true,
        changed: true,
        msg: `a trial boot of an earlier run failed: ${removal.summary}`,
      };
  }
  if (!add) return commit(host);
  const title = trialTitle(t.bootId);
  const remove = removeCommand(t.grubby, title);
  const added = await host.run(commandOf(add));
  if (added.rc !== 0) {
    return {
      failed: true,
      changed: removal !== undefined,
      msg: `\`${commandOf(add)}\` failed (rc ${added.rc}): ${added.stderr.trim()}; nothing else changed`,
    };
  }
  const info = await host.run(`${t.grubby} --info=ALL`);
  const listed = grubbyEntries(info.stdout);
  const trial = listed.find((e) => e.title === title);
  const id = trial?.id;
  // a grubby-bls without `~custom` file names writes over the kernel's own entry: no reboot into that
  if (trial && !listed.some((e) => e !== trial && e.kernel === trial.kernel)) {
    return {
      failed: true,
      changed: true,
      msg: `\`${commandOf(add)}\` replaced the kernel's own boot entry (${id}) instead of adding one (a grubby-bls that writes <machine id>-<version>.conf over it): no reboot; that entry now has the trial's title and arguments — give it back its arguments with grubby --update-kernel, and use trial_boot: false on this host`,
    };
  }
  const set = id ? await host.run(`${t.grubReboot} ${quote([id])}`) : info;
  if (!id || set.rc !== 0) {
    await host.run(remove);
    const what = id ? `\`${t.grubReboot} ${id}\`` : `the trial entry's id (\`${t.grubby} --info=ALL\`)`;
    return {
      failed: true,
      changed: true,
      msg: `${what} failed (rc ${set.rc}): ${set.stderr.trim()}; trial entry removed, nothing else changed`,
    };
  }
  const wanted = words(params);
  const reboot = await rebootAndWait(
    host,
    {
      reboot_timeout: t.timeout,
      proc_root: t.procRoot,
      ...(t.rebootCommand ? { reboot_command: t.rebootCommand } : {}),
    },
    t.bootId,
    ctx,
  );
  if (!reboot.host) {
    return {
      ...reboot.result,
      trial_boot: "no answer",
      trial_entry: id,
      msg: `the trial boot with ${wanted} did not answer: ${reboot.result.msg}. GRUB boots the trial entry once only: after a reset (BMC, power cycle) ${ctx.host} comes back on its previous entry; the boot entries and /etc/default/grub are unchanged and the next run removes the trial entry`,
    };
  }
  const back = reboot.host;
  const cmdline = (await back.readFile(`${t.procRoot}/cmdline`)).content?.toString("utf8").trim() ?? "";
  const gone = await back.run(remove);
  const left =
    gone.rc === 0
      ? "the trial entry is removed"
      : `removing the trial entry failed (\`${remove}\`, rc ${gone.rc}): the next run removes it`;
  if (!linesMatchPresent([parseParams(cmdline)], params)) {
    return {
      failed: true,
      changed: true,
      trial_boot: "failed",
      trial_entry: id,
      cmdline,
      msg: `the trial boot with ${wanted} did not come up: ${ctx.host} is back on its previous entry (/proc/cmdline: ${cmdline}); the boot entries and /etc/default/grub are unchanged, ${left}`,
    };
  }
  if (gone.rc !== 0) return { failed: true, changed: true, trial_boot: "passed", trial_entry: id, msg: left };
  const result = await commit(back);
  return {
    ...result,
    trial_boot: "passed",
    trial_entry: id,
    boot_id: reboot.result.boot_id,
    elapsed: reboot.result.elapsed,
  };
}
