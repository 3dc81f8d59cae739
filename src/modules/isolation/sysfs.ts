/**
 * `sysfs`: one attribute under `<sys_root>` (default /sys), e.g. the unbound workqueue cpumask
 * `devices/virtual/workqueue/cpumask`, set at runtime and restored from what was there before.
 *
 * `format: cpumask` takes a CPU list ("0-3,5-7"), writes it in the kernel's mask format (hex,
 * comma-separated 32-bit groups, as wide as the mask the file shows) and compares CPU sets;
 * `format: raw` (the default) writes the value as given and compares it after trimming whitespace;
 * an attribute that lists its choices with the active one in brackets (`always [madvise] never`,
 * transparent_hugepage/enabled) holds the bracketed word: that word is compared and saved, so a
 * restore writes back the choice the kernel had.
 *
 * Before the first change the original is saved in `state_file` (JSON keyed by absolute path,
 * mode 0600, atomic); an existing entry is never overwritten, so `state: restored` writes back
 * what was there before tickless, then drops the entry (and the file once it is empty).
 * The attribute is read and written through a command (the errno of a refused write is kept); a
 * write is read back in the same round trip, and a kernel refusal (EINVAL, EBUSY, EPERM …) fails
 * the task naming the path, the value and the errno text. The state file goes through the
 * connection's readFile / atomic writeFile / remove, as irq_affinity's save does; the task's
 * `become` applies to all of them (see Privilege in connection/types.ts).
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { applyOriginals, originalsText, parseOriginals } from "../util/originals-file.js";
import { cpuListToMask, formatCpuList, maskToCpuList, parseCpuList } from "./cpus.js";
import { errnoText } from "./irq-proc.js";

export interface SysfsArgs {
  path: string;
  value?: string | number | number[];
  format?: "raw" | "cpumask";
  state?: "present" | "restored";
  sys_root?: string;
  state_file?: string;
}

/** The saved originals: absolute path → the file's content as read (one trailing newline dropped). */
export interface SysfsSave {
  version: 1;
  originals: Record<string, string>;
}

export interface SysfsState {
  /** Absolute path of the attribute. */
  path: string;
  /** What the file holds (one trailing newline dropped); undefined when it could not be read. */
  value?: string;
  /** Why the value could not be read: "missing", "directory", or the errno text. */
  unreadable?: string;
  stateFile: { path: string; exists: boolean; content: string; data?: SysfsSave };
}

export const DEFAULT_SYSFS_STATE_FILE = "/var/lib/tickless/sysfs.json";

/** Bytes read from an attribute: sysfs attributes hold at most one page, this bounds a misdirected path. */
const READ_LIMIT = 65536;

/** Args with their defaults filled in and the attribute's absolute path. */
export function sysfsSettings(args: SysfsArgs) {
  const sysRoot = posix.normalize(args.sys_root ?? "/sys").replace(/(.)\/+$/, "$1");
  return {
    state: args.state ?? "present",
    format: args.format ?? "raw",
    sysRoot,
    path: sysfsPath(args.path, sysRoot),
    stateFile: args.state_file ?? DEFAULT_SYSFS_STATE_FILE,
  };
}

/** `devices/x` → `<sys_root>/devices/x`; an absolute path must lie under sys_root. */
export function sysfsPath(path: string, sysRoot = "/sys"): string {
  const root = posix.normalize(sysRoot).replace(/(.)\/+$/, "$1");
  const full = posix.normalize(path.startsWith("/") ? path : `${root}/${path}`).replace(/(.)\/+$/, "$1");
  const inside = root === "/" ? full !== "/" : full.startsWith(`${root}/`);
  if (!inside) {
    throw new TicklessError("MODULE_ARGS", `sysfs path ${path} is not under sys_root ${root}`, {
      hint: `give the path relative to sys_root (e.g. devices/virtual/workqueue/cpumask), or an absolute path under ${root}`,
    });
  }
  return full;
}

/** The CPUs of a cpumask value, or a clear error naming the file. */
function maskCpus(text: string, path: string): number[] {
  try {
    return maskToCpuList(text);
  } catch (err) {
    throw new TicklessError("TASK", `${path} does not hold a CPU mask (it reads ${JSON.stringify(text)})`, {
      cause: err,
      hint: "format: cpumask is for hex masks such as ff or 000000ff,ffffffff; use format: raw for other attributes",
    });
  }
}

/** The setting a raw attribute holds: the bracketed word of a choice list, else the trimmed text. */
export function rawSetting(text: string): string {
  const words = text.trim().split(/\s+/);
  const chosen = words.length > 1 ? words.filter((w) => /^\[\S+\]$/.test(w)) : [];
  return chosen.length === 1 ? chosen[0].slice(1, -1) : text.trim();
}

/** The value to write: the mask for `cpumask` (as wide as the current mask), the text for `raw`. */
export function wantedValue(args: SysfsArgs, current: string): string {
  if ((args.format ?? "raw") === "raw") return String(args.value ?? "").trim();
  const cpus = parseCpuList(args.value ?? "");
  const width = Math.max(current.trim().replace(/^0x/i, "").replace(/,/g, "").length * 4, 1);
  return cpuListToMask(cpus, width);
}

/** Whether `a` and `b` hold the same setting under `format`. */
export function sameValue(format: "raw" | "cpumask", a: string, b: string, path: string): boolean {
  if (format === "raw") return rawSetting(a) === rawSetting(b);
  return formatCpuList(maskCpus(a, path)) === formatCpuList(maskCpus(b, path));
}

/** "ff → ef (CPUs 0-7 → 0-3,5-7)" for a mask, "a → b" for raw text. */
function transition(format: "raw" | "cpumask", from: string, to: string, path: string): string {
  const text = `${from.trim() || '""'} → ${to.trim() || '""'}`;
  if (format === "raw") return text;
  return `${text} (CPUs ${formatCpuList(maskCpus(from, path)) || "none"} → ${formatCpuList(maskCpus(to, path)) || "none"})`;
}

function parseSave(text: string, path: string): SysfsSave {
  return {
    version: 1,
    originals: {
      ...parseOriginals<SysfsSave>(text, path, `the saved sysfs state ${path} is not valid`).originals,
    },
  };
}

const saveText = originalsText;

/**
 * `@@<key> <base64 of the file's first bytes>` then `@@<key>-error <head's error, if any>`: the
 * read's own error is captured apart from anything else on stderr (a sudo warning, a motd).
 */
function readLines(quotedPath: string, key: string): string {
  return `printf '@@${key} '; { e=$( { head -c ${READ_LIMIT} -- ${quotedPath} | base64 -w0 >&3; } 2>&1 ); } 3>&1; echo; echo "@@${key}-error $e"`;
}

/** The attribute: base64 of its content and its read error, or why it is not a file. */
export function probeScript(path: string): string {
  const p = quote([path]);
  return `if [ -d ${p} ]; then echo "@@value directory"; elif [ ! -e ${p} ]; then echo "@@value missing"; else echo "@@value-kind ok"; ${readLines(p, "value")}; fi`;
}

/** The decoded text after `@@<key> ` and the error after `@@<key>-error ` ("" when none). */
function readResult(stdout: string, key: string): { text: string; error: string } {
  const text = new RegExp(`^@@${key} (\\S*)$`, "m").exec(stdout)?.[1] ?? "";
  const error = new RegExp(`^@@${key}-error ?(.*)$`, "m").exec(stdout)?.[1].trim() ?? "";
  return { text: decode(text), error };
}

function decode(b64: string): string {
  return Buffer.from(b64.trim(), "base64").toString("utf8").replace(/\n$/, "");
}

/** Reads the attribute (a command: its errno matters) and the state file (the connection's readFile) at once. */
export async function probeSysfs(host: HostReader, args: SysfsArgs): Promise<SysfsState> {
  const s = sysfsSettings(args);
  const [res, stateRead] = await Promise.all([
    host.run(probeScript(s.path), { env: { LC_ALL: "C" } }),
    host.readFile(s.stateFile),
  ]);
  const kind =
    /^@@value (directory|missing)$/m.exec(res.stdout)?.[1] ?? /^@@value-kind (ok)$/m.exec(res.stdout)?.[1];
  if (res.rc !== 0 || !kind) {
    throw new TicklessError(
      "TASK",
      `cannot read ${s.path} on ${host.name}: ${res.stderr.trim() || `rc ${res.rc}`}`,
      {
        hint: "the probe needs a POSIX shell with head and base64 (coreutils)",
      },
    );
  }
  const content = stateRead.content?.toString("utf8") ?? "";
  let value: string | undefined;
  let unreadable: string | undefined;
  const read = readResult(res.stdout, "value");
  // a check run: the value an earlier task planned for the attribute, not the one the host has now
  const planned = host.plannedAt?.(s.path);
  if (planned) {
    if (planned.type === "file") value = (planned.content?.toString("utf8") ?? "").replace(/\n$/, "");
    else unreadable = planned.exists ? "directory" : "missing";
  } else if (kind !== "ok") unreadable = kind;
  else if (read.error !== "") unreadable = errnoText(read.error);
  else value = read.text;
  const state: SysfsState = {
    path: s.path,
    value,
    unreadable,
    stateFile: {
      path: s.stateFile,
      exists: stateRead.exists,
      content,
      data: stateRead.exists ? parseSave(content, s.stateFile) : undefined,
    },
  };
  const saved = state.stateFile.data?.originals[s.path];
  if (unreadable !== undefined && (s.state === "present" || saved !== undefined)) {
    const why =
      unreadable === "missing"
        ? "does not exist"
        : unreadable === "directory"
          ? "is a directory, not an attribute"
          : `cannot be read: ${unreadable}`;
    throw new TicklessError("TASK", `sysfs attribute ${s.path} on ${host.name} ${why}`, {
      hint: `path is relative to sys_root (${s.sysRoot}); the attribute may need a driver or kernel feature`,
    });
  }
  if (s.format === "cpumask" && value !== undefined) maskCpus(value, s.path);
  return state;
}

/** Pure: the write of the attribute and the state file's new content. */
export function planSysfs(args: SysfsArgs, current: SysfsState): Change[] {
  const s = sysfsSettings(args);
  const save = current.stateFile.data;
  const saved = save?.originals[current.path];
  const stateChange = (after: SysfsSave, summary: string): Change => {
    const empty = Object.keys(after.originals).length === 0;
    return {
      target: current.stateFile.path,
      summary: empty ? `${summary}; remove ${current.stateFile.path} (empty)` : summary,
      before: current.stateFile.content,
      ...(empty ? {} : { after: saveText(after) }),
      effect: empty
        ? { path: current.stateFile.path, type: "absent" }
        : { path: current.stateFile.path, type: "file", content: saveText(after) },
    };
  };
  if (s.state === "restored") {
    if (saved === undefined || save === undefined) return [];
    const changes: Change[] = [];
    if (current.value === undefined || !sameValue(s.format, current.value, saved, current.path)) {
      changes.push({
        target: current.path,
        summary: `restore ${args.path}: ${transition(s.format, current.value ?? "", saved, current.path)}`,
        before: current.value === undefined ? undefined : `${current.value}\n`,
        after: `${saved}\n`,
        effect: { path: current.path, type: "file", content: `${saved}\n` },
      });
    }
    const { [current.path]: _dropped, ...rest } = save.originals;
    changes.push(stateChange({ version: 1, originals: rest }, `drop the saved original of ${current.path}`));
    return changes;
  }
  const now = current.value ?? "";
  const want = wantedValue(args, now);
  if (sameValue(s.format, now, want, current.path)) return [];
  const changes: Change[] = [];
  if (saved === undefined) {
    const original = s.format === "raw" ? rawSetting(now) : now;
    const after: SysfsSave = { version: 1, originals: { ...save?.originals, [current.path]: original } };
    changes.push(stateChange(after, `save the original of ${current.path} (${original.trim() || '""'})`));
  }
  changes.push({
    target: current.path,
    summary: `${args.path}: ${transition(s.format, now, want, current.path)}`,
    before: `${now}\n`,
    after: `${want}\n`,
    effect: { path: current.path, type: "file", content: `${want}\n` },
  });
  return changes;
}

/** Writes the value (tee, whose error carries the errno text) and reads it back. */
export function writeScript(path: string, value: string): string {
  const p = quote([path]);
  return [
    `if e=$(printf '%s\\n' ${quote([value])} | tee -- ${p} 2>&1 >/dev/null); then echo "@@write ok"; else echo "@@write error $e"; exit 0; fi`,
    readLines(p, "readback"),
  ].join("\n");
}

const REFUSALS: Record<string, string> = {
  "Invalid argument": "the kernel does not take this value (format, range, or CPUs it cannot use)",
  "Device or resource busy": "the attribute is in use; retry when it is not",
  "Operation not permitted":
    "the kernel does not allow this change (become: true, or a locked-down attribute)",
  "Permission denied": "become: true may be needed",
};

const applySave = applyOriginals;

/** Writes the attribute and reads it back in one round trip; a failure result names the path and the values. */
async function applyWrite(
  host: HostReader,
  write: { path: string; value: string; format: "raw" | "cpumask" },
): Promise<ModuleResult | undefined> {
  const res = await host.run(writeScript(write.path, write.value), { env: { LC_ALL: "C" } });
  const marker = (key: string) => new RegExp(`^@@${key} ?(\\S*) ?(.*)$`, "m").exec(res.stdout);
  const { path, value, format } = write;
  const written = marker("write");
  if (written?.[1] !== "ok") {
    const errno = errnoText(written?.[2] || res.stderr.trim() || `rc ${res.rc}`);
    const why = REFUSALS[errno];
    return {
      failed: true,
      rc: res.rc,
      msg: `writing ${JSON.stringify(value)} to ${path} failed: ${errno}${why ? ` (${why})` : ""}`,
    };
  }
  const back = readResult(res.stdout, "readback");
  if (back.error !== "") {
    return {
      failed: true,
      msg: `${path} took ${JSON.stringify(value)} but cannot be read back: ${errnoText(back.error)}`,
    };
  }
  const readBack = back.text;
  const holds = (() => {
    try {
      return sameValue(format, readBack, value, path);
    } catch {
      return false;
    }
  })();
  if (!holds) {
    return {
      failed: true,
      msg: `${path} did not take the value: wrote ${JSON.stringify(value)}, it reads back ${JSON.stringify(readBack)}`,
      value: readBack,
    };
  }
  return undefined;
}

export const sysfsModule = defineModule<SysfsArgs, SysfsState>({
  name: "sysfs",
  kind: "state",
  description: "Set a sysfs attribute (raw text or a CPU mask), saving the original; restore it.",
  args: {
    type: "object",
    properties: {
      path: { type: "string", minLength: 1, pattern: "^[^\\n]*$" },
      value: {
        anyOf: [
          { type: "string", pattern: "^[^\\n]*$" },
          { type: "integer", minimum: 0 },
          { type: "array", items: { type: "integer", minimum: 0 } },
        ],
      },
      format: { enum: ["raw", "cpumask"] },
      state: { enum: ["present", "restored"] },
      sys_root: { type: "string", pattern: "^/" },
      state_file: { type: "string", pattern: "^/" },
    },
    required: ["path"],
    if: { not: { properties: { state: { const: "restored" } }, required: ["state"] } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
    then: { required: ["value"] },
    additionalProperties: false,
  },
  normalize(args) {
    sysfsSettings(args);
    if ((args.state ?? "present") === "present") {
      if ((args.format ?? "raw") === "cpumask") {
        if (parseCpuList(args.value ?? "").length === 0) {
          throw new TicklessError("MODULE_ARGS", `sysfs ${args.path}: the CPU list is empty`, {
            hint: "an empty mask leaves no CPU (the kernel refuses it for the workqueue cpumask); check the variable that gives value",
          });
        }
      } else if (Array.isArray(args.value)) {
        throw new TicklessError("MODULE_ARGS", `sysfs ${args.path}: a list value needs format: cpumask`, {
          hint: "format: raw writes a string or a number as given",
        });
      }
    }
    return args;
  },
  probe: probeSysfs,
  plan: planSysfs,
  async apply(host, args, changes, current): Promise<ModuleResult> {
    const s = sysfsSettings(args);
    const save = changes.find((c) => c.target === current.stateFile.path);
    const change = changes.find((c) => c.target === current.path);
    const write = change && {
      path: current.path,
      value: (change.after ?? "").replace(/\n$/, ""),
      format: s.format,
    };
    const original = current.stateFile.data?.originals[current.path] ?? current.value;
    if (s.state === "present") {
      // the original first: nothing is written unsaved
      const failed =
        (save && (await applySave(host, save, current.stateFile.exists, write?.path))) ||
        (write && (await applyWrite(host, write)));
      if (failed) return { ...failed, original };
      return { msg: `${current.path} set (original saved in ${s.stateFile})`, original };
    }
    // restored: the entry goes only once the original reads back
    const failed =
      (write && (await applyWrite(host, write))) ||
      (save && (await applySave(host, save, current.stateFile.exists, undefined)));
    if (failed) return { ...failed, original };
    return { msg: `${current.path} restored to ${JSON.stringify(original)} from ${s.stateFile}`, original };
  },
  report(args, state) {
    const s = sysfsSettings(args);
    const saved = state.stateFile.data?.originals[state.path];
    const result: ModuleResult = { path: state.path };
    if (state.value !== undefined) result.value = state.value.trim();
    if (s.format === "cpumask" && state.value !== undefined)
      result.cpus = formatCpuList(maskCpus(state.value, state.path));
    if (saved !== undefined) result.original = saved;
    if (s.state === "restored" && saved === undefined)
      result.msg = `no saved original of ${state.path} in ${s.stateFile}: nothing (left) to restore`;
    return result;
  },
});
