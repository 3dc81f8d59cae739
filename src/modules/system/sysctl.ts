/**
 * `sysctl`: one kernel parameter, persisted as a `name = value` line in a sysctl.d file and set
 * live by writing `<proc_root>/sys/<name with dots as slashes>` (what `sysctl -w` does).
 */
import { quote } from "shell-quote";
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";

export interface SysctlArgs {
  name: string;
  value?: string | number | boolean;
  state?: "present" | "absent";
  sysctl_file?: string;
  sysctl_set?: boolean;
  reload?: boolean;
  proc_root?: string;
}

export interface SysctlState {
  /** The sysctl.d file's content ("" when absent) and mode. */
  file: { exists: boolean; content: string; mode?: string };
  livePath: string;
  /** The live value as the kernel prints it; undefined when the entry does not exist. */
  live?: string;
}

export const DEFAULT_SYSCTL_FILE = "/etc/sysctl.d/99-tickless.conf";

/** Args with their defaults filled in. */
export function sysctlSettings(args: SysctlArgs) {
  return {
    state: args.state ?? "present",
    file: args.sysctl_file ?? DEFAULT_SYSCTL_FILE,
    set: args.sysctl_set ?? true,
    reload: args.reload ?? true,
    procRoot: (args.proc_root ?? "/proc").replace(/\/+$/, ""),
    value: valueString(args.value),
  };
}

function valueString(value: SysctlArgs["value"]): string | undefined {
  if (typeof value === "boolean") return value ? "1" : "0";
  return value === undefined ? undefined : String(value);
}

/** `net.core.somaxconn` → `<proc_root>/sys/net/core/somaxconn` (names with `/` are kept as written). */
export function procPath(name: string, procRoot = "/proc"): string {
  const rel = name.includes("/") ? name.replace(/^\/+/, "") : name.replace(/\./g, "/");
  return `${procRoot}/sys/${rel}`;
}

/** Values compare equal when their words do ("4096\t87380  6291456" = "4096 87380 6291456"). */
export function normalizeValue(value: string): string {
  return value.trim().split(/\s+/).join(" ");
}

/** The key a sysctl.d line sets (leading `-` dropped, slashes as dots), or undefined. */
export function lineKey(line: string): string | undefined {
  const m = /^\s*-?\s*([^#;=\s][^=]*?)\s*=/.exec(line);
  return m ? m[1].replace(/\//g, ".") : undefined;
}

function lineValue(line: string): string {
  return normalizeValue(line.slice(line.indexOf("=") + 1));
}

function splitLines(content: string): string[] {
  if (content === "") return [];
  return content.replace(/\n$/, "").split("\n");
}

/** Pure: the file with exactly one `name = value` line for the key (first replaced, duplicates dropped). */
export function setLine(content: string, name: string, value: string): string {
  const key = name.replace(/\//g, ".");
  const lines = splitLines(content);
  const matches = lines.filter((l) => lineKey(l) === key);
  if (matches.length === 1 && lineValue(matches[0]) === normalizeValue(value)) return content;
  const wanted = `${name} = ${value}`;
  const out: string[] = [];
  let placed = false;
  for (const line of lines) {
    if (lineKey(line) !== key) out.push(line);
    else if (!placed) {
      out.push(wanted);
      placed = true;
    }
  }
  if (!placed) out.push(wanted);
  return `${out.join("\n")}\n`;
}

/** Pure: the file without any line for the key. */
export function removeLine(content: string, name: string): string {
  const key = name.replace(/\//g, ".");
  const lines = splitLines(content);
  const kept = lines.filter((l) => lineKey(l) !== key);
  if (kept.length === lines.length) return content;
  return kept.length === 0 ? "" : `${kept.join("\n")}\n`;
}

/** Reads the file and the live value at once (two reads in flight: one round trip of latency). */
export async function probeSysctl(host: HostReader, args: SysctlArgs): Promise<SysctlState> {
  const s = sysctlSettings(args);
  const livePath = procPath(args.name, s.procRoot);
  const [file, live] = await Promise.all([host.readFile(s.file), host.readFile(livePath)]);
  const needsLive = s.state === "present" && (s.set || s.reload);
  if (needsLive && !live.exists) {
    throw new TicklessError(
      "TASK",
      `unknown sysctl key ${args.name} on ${host.name}: ${livePath} does not exist`,
      {
        hint: "check the name (sysctl -a lists them); a module may need to be loaded first",
      },
    );
  }
  if (needsLive && live.type === "directory") {
    throw new TicklessError(
      "TASK",
      `${args.name} is a group of sysctl keys, not one (${livePath} is a directory)`,
      {
        hint: "name a single parameter, e.g. net.core.somaxconn",
      },
    );
  }
  return {
    file: { exists: file.exists, content: file.content?.toString("utf8") ?? "", mode: file.mode },
    livePath,
    live: live.exists ? (live.content?.toString("utf8") ?? "").replace(/\n$/, "") : undefined,
  };
}

/** Pure: the changes to the file and to the live value. */
export function planSysctl(args: SysctlArgs, current: SysctlState): Change[] {
  const s = sysctlSettings(args);
  const changes: Change[] = [];
  const content = current.file.content;
  const after =
    s.state === "absent" ? removeLine(content, args.name) : setLine(content, args.name, s.value ?? "");
  if (after !== content) {
    const summary = s.state === "absent" ? `remove ${args.name}` : `set ${args.name} = ${s.value}`;
    changes.push({
      target: s.file,
      summary,
      before: content,
      after,
      effect: { path: s.file, type: "file", content: after },
    });
  }
  const liveWanted = s.state === "present" && (s.set || (s.reload && changes.length > 0));
  if (liveWanted && s.value !== undefined && current.live !== undefined) {
    if (normalizeValue(current.live) !== normalizeValue(s.value)) {
      changes.push({
        target: current.livePath,
        summary: `${args.name}: ${normalizeValue(current.live)} → ${normalizeValue(s.value)}`,
        before: `${current.live}\n`,
        after: `${s.value}\n`,
        effect: { path: current.livePath, type: "file", content: `${s.value}\n` },
      });
    }
  }
  return changes;
}

export const sysctlModule = defineModule<SysctlArgs, SysctlState>({
  name: "sysctl",
  aliases: ["ansible.posix.sysctl"],
  kind: "state",
  description: "Set a kernel parameter in a sysctl.d file and live.",
  args: {
    type: "object",
    properties: {
      name: { type: "string", pattern: "^(?!.*\\.\\.)[A-Za-z0-9_][A-Za-z0-9_.*/:@+-]*$" },
      value: { anyOf: [{ type: "string", pattern: "^[^\\n]*$" }, { type: "number" }, { type: "boolean" }] },
      state: { enum: ["present", "absent"] },
      sysctl_file: { type: "string", minLength: 1 },
      sysctl_set: { type: "boolean" },
      reload: { type: "boolean" },
      proc_root: { type: "string", minLength: 1 },
    },
    required: ["name"],
    if: { not: { properties: { state: { const: "absent" } }, required: ["state"] } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
    then: { required: ["value"] },
    additionalProperties: false,
  },
  probe: probeSysctl,
  plan: planSysctl,
  async apply(host, args, changes, current): Promise<ModuleResult> {
    const s = sysctlSettings(args);
    for (const change of changes) {
      if (change.target === s.file) {
        await host.writeFile(s.file, change.after ?? "", { mode: current.file.mode ?? "0644" });
        continue;
      }
      const res = await host.run(`printf '%s\\n' ${quote([s.value ?? ""])} > ${quote([change.target])}`);
      if (res.rc !== 0) {
        return { failed: true, rc: res.rc, msg: `setting ${args.name} failed: ${res.stderr.trim()}` };
      }
    }
    return { name: args.name, value: s.value };
  },
});
