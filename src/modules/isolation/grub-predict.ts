/**
 * The bytes of a regenerated grub.cfg before it is regenerated, so that check mode reports its diff
 * and later tasks read it (the check run's overlay): the host's own generator (`mkconfig_command`)
 * runs on the GRUB defaults as the plan leaves them and writes to a file that is not the host's.
 *
 * It runs in a private mount namespace (`unshare --mount`) in which every mount is made read-only
 * (a bind remount: the host's own mounts keep their flags), the defaults' directory is a tmpfs
 * holding a copy of it with the planned files in place, and the output (`-o`) goes into that
 * tmpfs. Nothing the generator does reaches the host's files; the tmpfs goes with the namespace.
 * grub-mkconfig (and update-grub, which is `grub-mkconfig -o /boot/grub/grub.cfg "$@"`) takes the
 * last `-o` and writes nothing but `<out>.new` and `<out>`; its header names `$self` and
 * `/etc/default/grub`, never the output path, so the bytes are the ones the real run writes.
 *
 * What stops a faithful prediction makes the bytes unpredictable, with the reason, never a guess:
 * a `mkconfig_command` that is not one simple command, no `unshare` or no right to mount, a
 * generator that fails or writes anything outside its output (it meets a read-only file system),
 * os-prober that would probe the host's other disks, an earlier task's planned change to the boot
 * files the generator reads (/boot, /etc/grub.d: it reads the host's).
 */
import { posix } from "node:path";
import { parse, quote } from "shell-quote";
import type { HostReader } from "../../connection/types.js";
import type { Change } from "../types.js";

/** A predicted grub.cfg: its bytes, or why they cannot be known before the run. */
export type GeneratedCfg = { content: string } | { unpredictable: string };

/** A GRUB defaults file as the plan leaves it (null: absent). */
export interface PlannedSource {
  path: string;
  content: string | null;
}

/** Pure: every defaults file as `changes` leave it (`modes`: the files that exist now). */
export function plannedSources(
  sources: readonly { path: string; content: string }[],
  modes: Readonly<Record<string, string | undefined>>,
  changes: readonly Change[],
): PlannedSource[] {
  return sources.map(({ path, content }) => {
    const effect = changes.find((c) => c.target === path)?.effect;
    if (effect?.type === "file") return { path, content: String(effect.content) };
    if (effect?.type === "absent") return { path, content: null };
    return { path, content: modes[path] === undefined ? null : content };
  });
}

/** The name of the output inside the tmpfs. */
const OUT = ".tickless-grub.cfg";

/**
 * Pure: `mkconfig` with its output pointed at `out` (every `-o`/`--output` dropped, `-o out` added
 * last), or undefined when it is not one simple command (operators, redirections, expansions).
 */
export function generatorCommand(mkconfig: string, out: string): string | undefined {
  if (/[$`\\\n]/.test(mkconfig)) return undefined;
  const parsed = parse(mkconfig);
  if (!parsed.every((w): w is string => typeof w === "string")) return undefined;
  const words: string[] = [];
  for (let i = 0; i < parsed.length; i++) {
    const w = parsed[i];
    if (w === "-o" || w === "--output") i++;
    else if (!w.startsWith("--output=")) words.push(w);
  }
  // leading NAME=value words stay assignments (quote() would escape their `=`)
  const assigns = words.findIndex((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
  if (assigns === -1) return undefined;
  const env = words.slice(0, assigns).map((w) => {
    const at = w.indexOf("=");
    return `${w.slice(0, at + 1)}${quote([w.slice(at + 1)])}`;
  });
  return [...env, quote([...words.slice(assigns), "-o", out])].join(" ");
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** Pure: the script run inside the namespace (see the file's comment), for the defaults file and its grub.d. */
export function predictScript(
  grubDefault: string,
  grubD: string,
  sources: PlannedSource[],
  command: string,
): string {
  const dir = posix.dirname(grubDefault);
  const d = quote([dir]);
  const said = (text: string) => quote([text]);
  const inside = (p: string) => p.startsWith(`${dir}/`);
  const writes = sources
    .filter((s) => s.content !== null && inside(s.path))
    .map(
      (s) =>
        `printf '%s' ${b64(s.content ?? "")} | base64 -d > ${quote([s.path])} || fail ${said(`cannot write the planned ${s.path}`)}`,
    );
  return [
    `fail() { printf '@@unpredictable %s\\n' "$*"; exit 0; }`,
    `cd ${d} 2>/dev/null || fail ${said(`${dir} does not exist`)}`,
    // every mount read-only, from a list read first (no file is open for writing while they change)
    `mounts=$(cat /proc/self/mounts) || fail "cannot read /proc/self/mounts"`,
    "set -f; nl='\n'; IFS=$nl",
    "for line in $mounts; do",
    "  IFS=' '; set -- $line; IFS=$nl",
    `  [ "$3" = autofs ] && continue`,
    `  mp=$(printf '%b' "$2")`,
    `  err=$(mount -o remount,bind,ro "$mp" 2>&1) || fail "cannot make $mp read-only for the generator: $err"`,
    "done",
    "set +f; IFS=' \t\n'",
    `err=$(mount -t tmpfs -o mode=0755,size=64m tickless-check ${d} 2>&1) || fail ${said(`cannot mount a tmpfs on ${dir}:`)} "$err"`,
    `cp -a . ${d}/ || fail ${said(`cannot copy ${dir}`)}`,
    "cd /",
    `rm -f ${quote([grubDefault])} ${quote([grubD])}/*.cfg; mkdir -p ${quote([grubD])}`,
    ...writes,
    // os-prober mounts the host's other disks: not in a check run. Unset, GRUB_DISABLE_OS_PROBER is
    // what the installed grub-mkconfig sets before it sources the defaults (Debian's 2.06: true)
    `if command -v os-prober >/dev/null 2>&1 && [ -x /etc/grub.d/30_os-prober ]; then`,
    `  m=$(command -v grub-mkconfig || command -v grub2-mkconfig); dflt=; grep -qx 'GRUB_DISABLE_OS_PROBER="true"' "$m" 2>/dev/null && dflt=true`,
    `  p=$(GRUB_DISABLE_OS_PROBER=$dflt; for x in ${quote([grubDefault])} ${quote([grubD])}/*.cfg; do [ -f "$x" ] && . "$x"; done >/dev/null 2>&1; printf '%s' "$GRUB_DISABLE_OS_PROBER")`,
    `  [ "$p" = true ] || fail "os-prober would probe the host's other disks (GRUB_DISABLE_OS_PROBER is not true)"`,
    "fi",
    `(${command}) </dev/null >${d}/.tickless-log 2>&1; rc=$?`,
    `[ "$rc" = 0 ] || fail "the generator failed (rc $rc): $(tail -n 5 ${d}/.tickless-log)"`,
    `[ -f ${quote([`${dir}/${OUT}`])} ] || fail "the generator wrote nothing at the output it was given"`,
    "echo @@generated",
    `base64 < ${quote([`${dir}/${OUT}`])}`,
  ].join("\n");
}

/** Pure: the generator's answer → the prediction. */
export function parsePrediction(res: { rc: number; stdout: string; stderr: string }): GeneratedCfg {
  const why = /@@unpredictable ([\s\S]*)$/.exec(res.stdout);
  if (why) return { unpredictable: why[1].trim().replace(/\s+/g, " ") };
  const at = res.stdout.indexOf("@@generated\n");
  if (res.rc === 0 && at !== -1) {
    return { content: Buffer.from(res.stdout.slice(at + 12).replace(/\s+/g, ""), "base64").toString("utf8") };
  }
  const err = res.stderr.trim().replace(/\s+/g, " ") || `rc ${res.rc}`;
  return { unpredictable: `a private mount namespace for the generator (unshare --mount) failed: ${err}` };
}

/** Boot files an earlier task of the run plans, which the generator would read from the host instead. */
function plannedBootFiles(host: HostReader, grubCfg: string): string[] {
  if (!host.plannedIn) return [];
  return ["/boot", "/etc/grub.d", posix.dirname(grubCfg)]
    .flatMap((dir) => host.plannedIn?.(dir) ?? [])
    .map((e) => e.path)
    .filter((p) => p !== grubCfg);
}

/** Runs the host's generator on the planned defaults (see above); never changes the host. */
export async function predictGrubCfg(
  host: HostReader,
  settings: { grubDefault: string; grubD: string; grubCfg: string; mkconfig: string },
  sources: PlannedSource[],
): Promise<GeneratedCfg> {
  const dir = posix.dirname(settings.grubDefault);
  const command = generatorCommand(settings.mkconfig, `${dir}/${OUT}`);
  if (!command) {
    return {
      unpredictable: `\`${settings.mkconfig}\` is not one simple command whose output can be pointed elsewhere (-o)`,
    };
  }
  const planned = plannedBootFiles(host, settings.grubCfg);
  if (planned.length > 0) {
    return { unpredictable: `an earlier task plans ${planned.join(", ")}, which the generator would read` };
  }
  const script = predictScript(settings.grubDefault, settings.grubD, sources, command);
  return parsePrediction(await host.run(`unshare --mount --propagation private sh -c ${quote([script])}`));
}

/** The plan's regeneration change with the predicted bytes (a diff, and the overlay's effect) or the reason they are unknown. */
export function withPrediction(
  change: Change,
  cfg: { exists: boolean; content: string },
  generated?: GeneratedCfg,
): Change {
  if (!generated) return change;
  const before = cfg.exists ? cfg.content : undefined;
  if ("unpredictable" in generated)
    return {
      ...change,
      summary: `${change.summary}; its bytes are unpredictable: ${generated.unpredictable}`,
    };
  return {
    ...change,
    ...(before === undefined ? {} : { before }),
    after: generated.content,
    effect: { path: change.target, type: "file", content: generated.content },
  };
}

/**
 * The report's fields when the plan regenerates grub.cfg and its bytes cannot be known (set only
 * then: the real run's report is of the state after it): the task is unpredictable, saying why.
 */
export function unpredictableCfg(path: string, generated?: GeneratedCfg) {
  if (!generated || !("unpredictable" in generated)) return {};
  return {
    unpredictable: true,
    msg: `unpredictable in check mode: ${path} as regenerated: ${generated.unpredictable}`,
  };
}
