/**
 * file's `modification_time` / `access_time` (with `_format`): `preserve` keeps a time, `now` sets
 * it to the host's clock (a change on every run, as in Ansible), any other value is a time read
 * with Python's strptime format (default `%Y%m%d%H%M.%S`) in the host's time zone, a change only
 * when it differs from the path's. "now" converges because the plan compares with the host's
 * clock at the task's first probe: after apply the time is at or past it.
 */
import { quote } from "shell-quote";
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleContext } from "../types.js";

export interface TimeArgs {
  modification_time?: string;
  modification_time_format?: string;
  access_time?: string;
  access_time_format?: string;
}

export const TIME_PROPERTIES = {
  modification_time: { type: "string", minLength: 1 },
  modification_time_format: { type: "string", minLength: 1 },
  access_time: { type: "string", minLength: 1 },
  access_time_format: { type: "string", minLength: 1 },
} as const;

const DEFAULT_FORMAT = "%Y%m%d%H%M.%S";

/** What a time option asks: keep, the host's clock, or a moment in seconds since the epoch. */
export type WantedTime = "preserve" | "now" | number;

export interface TimesState {
  atime: number;
  mtime: number;
  /** The host's clock at the task's first probe. */
  taskStart: number;
  /** Whether this is the task's first probe (a "now" is then still to be done). */
  first: boolean;
  mtimeWanted: WantedTime;
  atimeWanted: WantedTime;
}

/** Fields of a broken-down time, as strptime fills them. */
interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const FULL_MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];

const DIRECTIVES: Record<string, { re: string; set: (p: Parts, v: string) => void }> = {
  Y: { re: "\\d\\d\\d\\d", set: (p, v) => (p.year = Number(v)) },
  y: { re: "\\d\\d", set: (p, v) => (p.year = Number(v) + (Number(v) < 69 ? 2000 : 1900)) },
  m: { re: "1[0-2]|0[1-9]|[1-9]", set: (p, v) => (p.month = Number(v)) },
  d: { re: "3[01]|[12]\\d|0[1-9]|[1-9]| [1-9]", set: (p, v) => (p.day = Number(v)) },
  H: { re: "2[0-3]|[0-1]\\d|\\d", set: (p, v) => (p.hour = Number(v)) },
  M: { re: "[0-5]\\d|\\d", set: (p, v) => (p.minute = Number(v)) },
  S: { re: "6[0-1]|[0-5]\\d|\\d", set: (p, v) => (p.second = Number(v)) },
  b: { re: MONTHS.join("|"), set: (p, v) => (p.month = MONTHS.indexOf(v.toLowerCase()) + 1) },
  B: { re: FULL_MONTHS.join("|"), set: (p, v) => (p.month = FULL_MONTHS.indexOf(v.toLowerCase()) + 1) },
};

/** Python's time.strptime for %Y %y %m %d %H %M %S %b %B %%; its error words otherwise. */
export function strptime(text: string, format: string): Parts {
  const parts: Parts = { year: 1900, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
  const setters: ((p: Parts, v: string) => void)[] = [];
  let source = "";
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c === "%" && i + 1 < format.length) {
      const d = format[++i];
      if (d === "%") source += "%";
      else if (DIRECTIVES[d]) {
        source += `(${DIRECTIVES[d].re})`;
        setters.push(DIRECTIVES[d].set);
      } else {
        throw new TicklessError("MODULE_ARGS", `'${d}' is a bad directive in format '%${d}'`, {
          hint: "tickless reads the directives %Y %y %m %d %H %M %S %b %B",
        });
      }
    } else if (/\s/.test(c)) source += "\\s+";
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  const m = new RegExp(`^${source}`, "i").exec(text);
  if (!m) throw new Error(`time data '${text}' does not match format '${format}'`);
  if (m[0].length < text.length) throw new Error(`unconverted data remains: ${text.slice(m[0].length)}`);
  for (const [i, set] of setters.entries()) set(parts, m[i + 1]);
  return parts;
}

/** What an option asks, its time parsed: "preserve", "now", or "Y-m-d H:M:S" for the host's `date -d`. */
function request(value: string | undefined, format: string | undefined, fallback: string): string {
  const v = value ?? fallback;
  if (v === "preserve" || v === "now") return v;
  const f = format ?? DEFAULT_FORMAT;
  try {
    const p = strptime(v, f);
    const two = (n: number) => String(n).padStart(2, "0");
    return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}:${two(p.second)}`;
  } catch (err) {
    if (err instanceof TicklessError) throw err;
    throw new TicklessError(
      "TASK",
      `Error while obtaining timestamp for time ${v} using format ${f}: ${(err as Error).message}`,
    );
  }
}

/** Whether the task asks anything of the times (touch's defaults aside). */
export function managesTimes(args: TimeArgs): boolean {
  return args.modification_time !== undefined || args.access_time !== undefined;
}

/** The host's clock at each task run's first probe, keyed by its ModuleContext. */
const taskStarts = new WeakMap<ModuleContext, number>();

/** One round trip: the path's atime and mtime, the host's clock, and each asked time in seconds. */
export async function probeTimes(
  host: HostReader,
  path: string,
  args: TimeArgs & { state?: string },
  ctx: ModuleContext,
): Promise<TimesState> {
  const state = args.state;
  // touch's unset time is "now", as in Ansible
  const unset = state === "touch" ? "now" : "preserve";
  const m = request(args.modification_time, args.modification_time_format, unset);
  const a = request(args.access_time, args.access_time_format, unset);
  const epoch = (r: string) => (r === "preserve" || r === "now" ? "echo -" : `date -d ${quote([r])} +%s`);
  // a path still to be created has no times yet (NaN: every asked time is a change)
  const stat = `{ stat -c '%.9X %.9Y' -- ${quote([path])} 2>/dev/null || echo 'NaN NaN'; }`;
  const script = [stat, "date +%s.%N", epoch(m), epoch(a)].join(" && ");
  const res = await host.run(script);
  const [times = "", clock = "", mEpoch = "", aEpoch = ""] = res.stdout.split("\n");
  if (res.rc !== 0 || aEpoch === "") {
    throw new TicklessError("TASK", `cannot read the times of ${path} on ${host.name}: ${res.stderr.trim()}`);
  }
  const [atime, mtime] = times.split(" ").map(Number);
  const now = Number(clock);
  const first = !taskStarts.has(ctx);
  if (first) taskStarts.set(ctx, now);
  const wanted = (r: string, e: string): WantedTime => (r === "preserve" || r === "now" ? r : Number(e));
  return {
    atime,
    mtime,
    taskStart: taskStarts.get(ctx)!,
    first,
    mtimeWanted: wanted(m, mEpoch),
    atimeWanted: wanted(a, aEpoch),
  };
}

/**
 * How far a file time set "now" may lag the clock `date +%s.%N` read: the kernel stamps files from
 * its coarse clock, which is up to one tick (10 ms at HZ=100) behind the precise one. Without this a
 * `touch` just after the probe can land before the task's start on an idle host.
 */
const COARSE_CLOCK_S = 0.02;

/** The time changes (pure): "now" on the first probe, or until the time reaches the task's start; a moment when it differs. */
export function timeChanges(path: string, s: TimesState): Change[] {
  const out: Change[] = [];
  const one = (what: "mtime" | "atime", current: number, wanted: WantedTime) => {
    if (wanted === "preserve") return;
    if (wanted === "now" ? !s.first && current >= s.taskStart - COARSE_CLOCK_S : current === wanted) return;
    const after = wanted === "now" ? "now" : String(wanted);
    out.push({
      target: `${path}:${what}`,
      summary: `${what} ${current} → ${after}`,
      before: String(current),
      after,
    });
  };
  one("mtime", s.mtime, s.mtimeWanted);
  one("atime", s.atime, s.atimeWanted);
  return out;
}

/** touch commands for the time changes of `path`. */
export function timeCommands(path: string, changes: Change[]): string[] {
  return changes
    .filter((c) => c.target === `${path}:mtime` || c.target === `${path}:atime`)
    .map((c) => {
      const flag = c.target.endsWith(":mtime") ? "-m" : "-a";
      const when = c.after === "now" ? [] : ["-d", `@${c.after}`];
      return quote(["touch", "-c", flag, ...when, "--", path]);
    });
}
