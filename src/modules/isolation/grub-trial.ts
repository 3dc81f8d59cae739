/**
 * kernel_cmdline's trial boot (`trial_boot: true`, GRUB methods, `state: present`): a new command
 * line is booted ONCE before any GRUB default changes, so a line that does not boot comes back on
 * the old one.
 *
 * 1. The entry the host runs now is found in grub.cfg (its `linux` line is /proc/cmdline without
 *    BOOT_IMAGE=) and copied, with the new parameters, into `custom.cfg` beside grub.cfg as the
 *    entry `tickless-trial` (Debian's /etc/grub.d/41_custom makes grub.cfg source that file at boot
 *    time: no grub-mkconfig run, /etc/default/grub* untouched). An operator's own custom.cfg keeps
 *    its bytes; the trial entry goes between markers after them.
 * 2. `grub-reboot tickless-trial` sets `next_entry` in grubenv: GRUB boots it once and clears it
 *    before booting, whatever GRUB_DEFAULT says. The host reboots (the `reboot` module's wait).
 * 3. Back under a new boot id with the parameters on /proc/cmdline: the trial entry is removed and
 *    the GRUB defaults are changed as without a trial (the default entry now carries them). Back
 *    without them (a kernel that panics with `panic=N` reboots by itself into the default entry):
 *    the trial entry is removed and the task fails, the defaults untouched. Not back within
 *    `reboot_timeout`: the task fails saying that a reset brings the host back on its old entry.
 */
import { posix } from "node:path";
import type { HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { rebootAndWait } from "../system/reboot.js";
import type { Change, ModuleContext, ModuleResult } from "../types.js";
import {
  formatParam,
  type KernelParam,
  linesMatchPresent,
  mergeParams,
  parseParams,
} from "./grub-cmdline.js";

export const TRIAL_ID = "tickless-trial";
const BEGIN = "### BEGIN tickless trial boot ###";
const END = "### END tickless trial boot ###";

export interface TrialState {
  /** custom.cfg beside grub.cfg. */
  custom: { path: string; exists: boolean; content: string; mode?: string };
  /** The running kernel's boot id (the trial block names the boot that prepared it). */
  bootId: string;
  grubReboot: string;
  timeout: number;
}

export function customCfgPath(grubCfg: string): string {
  return posix.join(posix.dirname(grubCfg), "custom.cfg");
}

/** The trial block in custom.cfg: the boot that prepared it, or undefined when there is none. */
export function trialBlock(custom: string): { preparedIn: string } | undefined {
  const start = custom.indexOf(`${BEGIN}\n`);
  if (start < 0) return undefined;
  const m = /^# prepared in boot (\S*)/m.exec(custom.slice(start));
  return { preparedIn: m?.[1] ?? "" };
}

/** custom.cfg without the trial block (the operator's bytes as they were before it). */
export function withoutTrial(custom: string): string {
  const start = custom.indexOf(`${BEGIN}\n`);
  if (start < 0) return custom;
  const end = custom.indexOf(`${END}\n`, start);
  return custom.slice(0, start) + (end < 0 ? "" : custom.slice(end + END.length + 1));
}

interface Entry {
  image: string;
  args: KernelParam[];
  body: string[];
}

/** Every `menuentry … {` … `}` of grub.cfg with a Linux `linux` line (submenus' entries included). */
export function linuxEntries(cfg: string): Entry[] {
  const entries: Entry[] = [];
  let body: string[] | undefined;
  for (const line of cfg.split("\n")) {
    if (/^\s*menuentry\s.*\{\s*$/.test(line)) body = [];
    else if (body && /^\s*\}\s*$/.test(line)) {
      const linux = body.map((l) => /^\s*linux(?:efi|16)?\s+(\S+)(.*)$/.exec(l)).find(Boolean);
      if (linux) entries.push({ image: linux[1], args: parseParams(linux[2]), body });
      body = undefined;
    } else body?.push(line);
  }
  return entries;
}

const words = (params: KernelParam[]) => params.map(formatParam).join(" ");

/**
 * Pure: the running entry (its linux line is /proc/cmdline without BOOT_IMAGE=) with the params
 * merged in, as the trial block for custom.cfg. Throws when grub.cfg has no such entry or does not
 * source custom.cfg.
 */
export function renderTrial(
  cfg: string,
  cfgPath: string,
  cmdline: string,
  params: KernelParam[],
  bootId: string,
) {
  if (!/custom\.cfg/.test(cfg)) {
    throw new TicklessError(
      "TASK",
      `${cfgPath} does not source custom.cfg (/etc/grub.d/41_custom): no trial boot`,
      {
        hint: "restore /etc/grub.d/41_custom and regenerate grub.cfg, or set trial_boot: false",
      },
    );
  }
  const running = parseParams(cmdline);
  const image = running.find((w) => w.key === "BOOT_IMAGE")?.value ?? "";
  const rest = words(running.filter((w) => w.key !== "BOOT_IMAGE"));
  const entry = linuxEntries(cfg).find(
    (e) => (e.image === image || e.image.endsWith(`)${image}`)) && words(e.args) === rest,
  );
  if (!entry) {
    throw new TicklessError(
      "TASK",
      `no entry of ${cfgPath} boots what runs now (BOOT_IMAGE=${image} ${rest}): no trial boot`,
      {
        hint: "grub.cfg changed since this boot: reboot into its default entry first, or set trial_boot: false",
      },
    );
  }
  const args = mergeParams(entry.args, params, "present");
  const body = entry.body.map((l) =>
    l.replace(/^(\s*linux(?:efi|16)?\s+\S+).*$/, (_m, head: string) => `${head} ${words(args)}`),
  );
  return [
    BEGIN,
    `# prepared in boot ${bootId} by tickless kernel_cmdline: booted once (grub-reboot ${TRIAL_ID}), then removed.`,
    `menuentry 'tickless trial: ${entry.image.replace(/'/g, "")} ${words(params)}' --id ${TRIAL_ID} {`,
    ...body,
    "}",
    END,
    "",
  ].join("\n");
}

/**
 * Pure: the trial's changes before `final` (the GRUB defaults' changes), or undefined when no trial
 * is needed (nothing to change, or the running kernel already has the params: commit directly).
 */
export function planTrial(
  t: TrialState,
  cfg: { path: string; content: string },
  cmdline: string,
  params: KernelParam[],
  final: Change[],
): Change[] {
  const block = trialBlock(t.custom.content);
  const removal: Change[] = block
    ? [
        {
          target: t.custom.path,
          summary:
            block.preparedIn !== t.bootId && !linesMatchPresent([parseParams(cmdline)], params)
              ? `remove the trial entry: its boot (prepared in boot ${block.preparedIn}) came back without ${words(params)}; the GRUB defaults are left as they are`
              : "remove the trial entry left by an earlier run",
          before: t.custom.content,
          after: withoutTrial(t.custom.content),
        },
      ]
    : [];
  const running = parseParams(cmdline);
  if (final.length === 0 || linesMatchPresent([running], params)) return [...removal, ...final];
  // a trial that came back without the params is not tried again in the same run
  if (block && block.preparedIn !== t.bootId) return removal;
  const trial = renderTrial(cfg.content, cfg.path, cmdline, params, t.bootId);
  return [
    {
      target: t.custom.path,
      summary: `trial entry ${TRIAL_ID} (the running entry + ${words(params)}), removed after its boot`,
      before: t.custom.content,
      after: `${withoutTrial(t.custom.content)}${trial}`,
    },
    {
      target: `${TRIAL_ID}:boot`,
      summary: `boot it once (\`${t.grubReboot} ${TRIAL_ID}\`, reboot, ${t.timeout} s to come back with ${words(params)}); the defaults change only then`,
    },
    ...final,
  ];
}

/** What the trial needs from the host: custom.cfg beside grub.cfg and the boot id. */
export async function readTrial(
  host: HostReader,
  grubCfg: string,
  procRoot: string,
  grubReboot: string,
  timeout: number,
): Promise<TrialState> {
  const path = customCfgPath(grubCfg);
  const [custom, bootId] = await Promise.all([
    host.readFile(path),
    host.readFile(`${procRoot}/sys/kernel/random/boot_id`),
  ]);
  const text = (r: { content?: Buffer }) => r.content?.toString("utf8") ?? "";
  return {
    custom: { path, exists: custom.exists, content: text(custom), mode: custom.mode },
    bootId: text(bootId).trim(),
    grubReboot,
    timeout,
  };
}

/** Pure: absent, restored: a trial entry an earlier run left (it never got its host back) goes. */
export function leftoverRemoval(t: TrialState): Change[] {
  if (!trialBlock(t.custom.content)) return [];
  const after = withoutTrial(t.custom.content);
  return [
    {
      target: t.custom.path,
      summary: "remove the trial entry left by an earlier run",
      before: t.custom.content,
      after,
    },
  ];
}

async function writeCustom(host: HostWriter, t: TrialState, content: string): Promise<void> {
  if (content === "" && !t.custom.exists) await host.remove(t.custom.path);
  else await host.writeFile(t.custom.path, content, { mode: t.custom.mode ?? "0644" });
}

/**
 * Applies the trial's changes; `commit` applies the defaults' changes on the host that answers
 * after the trial boot. A trial that does not come back with the params fails the task.
 */
export async function applyTrial(
  host: HostWriter,
  t: TrialState,
  changes: Change[],
  params: KernelParam[],
  procRoot: string,
  ctx: ModuleContext,
  commit: (host: HostWriter) => Promise<ModuleResult>,
): Promise<ModuleResult> {
  const custom = changes.filter((c) => c.target === t.custom.path);
  const booting = changes.some((c) => c.target === `${TRIAL_ID}:boot`);
  const original = withoutTrial(t.custom.content);
  if (!booting) {
    if (custom.length) await writeCustom(host, t, original);
    const stale = custom.find((c) => c.summary.includes("came back without"));
    if (stale)
      return { failed: true, changed: true, msg: `a trial boot of an earlier run failed: ${stale.summary}` };
    return commit(host);
  }
  await host.writeFile(t.custom.path, custom[custom.length - 1].after ?? "", {
    mode: t.custom.mode ?? "0644",
  });
  const set = await host.run(`${t.grubReboot} ${TRIAL_ID}`);
  if (set.rc !== 0) {
    await writeCustom(host, t, original);
    return {
      failed: true,
      changed: false,
      msg: `\`${t.grubReboot} ${TRIAL_ID}\` failed (rc ${set.rc}): ${set.stderr.trim()}; trial entry removed, nothing else changed`,
    };
  }
  const wanted = words(params);
  const reboot = await rebootAndWait(host, { reboot_timeout: t.timeout }, t.bootId, ctx);
  if (!reboot.host) {
    return {
      ...reboot.result,
      trial_boot: "no answer",
      msg: `the trial boot with ${wanted} did not answer: ${reboot.result.msg}. GRUB boots the trial entry once only: after a reset (BMC, power cycle) ${ctx.host} comes back on its previous entry; /etc/default/grub* are unchanged and the next run removes the trial entry`,
    };
  }
  const back = reboot.host;
  const cmdline = (await back.readFile(`${procRoot}/cmdline`)).content?.toString("utf8").trim() ?? "";
  await writeCustom(back, t, original);
  if (!linesMatchPresent([parseParams(cmdline)], params)) {
    return {
      failed: true,
      changed: true,
      trial_boot: "failed",
      cmdline,
      msg: `the trial boot with ${wanted} did not come up: ${ctx.host} is back on its previous entry (/proc/cmdline: ${cmdline}); /etc/default/grub* are unchanged, the trial entry is removed`,
    };
  }
  const result = await commit(back);
  return { ...result, trial_boot: "passed", boot_id: reboot.result.boot_id, elapsed: reboot.result.elapsed };
}
