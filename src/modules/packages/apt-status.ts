/**
 * What the `apt` module reads on the host, in one round trip: the cache's age (the mtime Ansible
 * reads: /var/lib/apt/periodic/update-success-stamp, else /var/lib/apt/lists), and for each package
 * its dpkg status and `apt-cache policy` (installed version, candidate, version table); for a `deb:`
 * file its Package and Version fields. The parsers are pure.
 */
import { quote } from "shell-quote";

/** One package as dpkg and apt's policy see it. */
export interface PackageStatus {
  name: string;
  /** dpkg's status word: installed, config-files, half-installed …; "" when dpkg does not know it. */
  dpkg: string;
  /** The installed version, when dpkg says `installed`. */
  installed?: string;
  /** The policy's candidate (undefined for `(none)`). */
  candidate?: string;
  /** Every version in the policy's table, highest first (the installed one included). */
  versions: string[];
  /** Other packages provide it (a virtual package apt-get resolves by itself). */
  provided: boolean;
}

export interface CacheStatus {
  /**
   * The stamp's (or the lists directory's) mtime in seconds, with its fraction (Ansible compares it
   * with the clock as a datetime); 0 when neither exists. Its whole seconds are cache_update_time.
   */
  mtime: number;
  /** The host's clock, in seconds with their fraction. */
  now: number;
  /** apt-get's path on the host (as Ansible names it in its messages). */
  aptGet: string;
}

const CACHE_SCRIPT = [
  "echo @@cache",
  "stat -c %.9Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %.9Y /var/lib/apt/lists 2>/dev/null || echo 0",
  "date +%s.%N",
  "command -v apt-get || echo apt-get",
];

/** The shell that prints the cache section and one section per package name. */
export function statusScript(names: readonly string[]): string {
  const lines = [...CACHE_SCRIPT];
  for (const n of names) {
    const q = quote([n]);
    lines.push(
      `echo @@pkg ${q}`,
      `dpkg-query -W -f='\${db:Status-Status}\\t\${Version}\\n' ${q} 2>/dev/null | head -n 1`,
      "echo @@policy",
      `apt-cache policy ${q} 2>/dev/null`,
      "echo @@provides",
      `apt-cache showpkg ${q} 2>/dev/null | sed -n '/^Reverse Provides:/,$p' | tail -n +2`,
    );
  }
  return `${lines.join("\n")}\ntrue\n`;
}

/** `apt-cache pkgnames`: every real package name apt knows (for wildcard specs). */
export const PKGNAMES_COMMAND = "apt-cache pkgnames";

/** The shell that reads a .deb's name and version, and dpkg's status of that package. */
export function debScript(path: string): string {
  const q = quote([path]);
  return [
    ...CACHE_SCRIPT,
    "echo @@deb",
    `p=$(dpkg-deb -f ${q} Package) && v=$(dpkg-deb -f ${q} Version) || exit 3`,
    'echo "$p"; echo "$v"',
    `dpkg-query -W -f='\${db:Status-Status}\\t\${Version}\\n' "$p" 2>/dev/null | head -n 1`,
    `i=$(dpkg-query -W -f='\${db:Status-Status} \${Version}' "$p" 2>/dev/null) || i=`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
    'case "$i" in "installed "*) dpkg --compare-versions "${i#installed }" gt "$v" && echo later ;; esac',
    "true",
  ].join("\n");
}

/** The output split at its `@@word rest` lines: [word, rest, body lines][]. */
function sections(stdout: string): { word: string; rest: string; body: string[] }[] {
  const out: { word: string; rest: string; body: string[] }[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^@@(\w+) ?(.*)$/.exec(line);
    if (m) out.push({ word: m[1], rest: m[2], body: [] });
    else if (out.length > 0) out[out.length - 1].body.push(line);
  }
  return out;
}

function parseCache(body: string[]): CacheStatus {
  return { mtime: Number(body[0]) || 0, now: Number(body[1]) || 0, aptGet: body[2]?.trim() || "apt-get" };
}

/** `installed\t1.0` → the status word and, when installed, the version. */
function parseDpkg(line: string | undefined): { dpkg: string; installed?: string } {
  const [word = "", version = ""] = (line ?? "").split("\t");
  return word === "installed" ? { dpkg: word, installed: version } : { dpkg: word };
}

/** `apt-cache policy NAME` → the candidate and the version table's versions. */
export function parsePolicy(lines: readonly string[]): { candidate?: string; versions: string[] } {
  let candidate: string | undefined;
  const versions: string[] = [];
  for (const line of lines) {
    const c = /^\s+Candidate: (\S+)$/.exec(line);
    if (c) candidate = c[1] === "(none)" ? undefined : c[1];
    const v = /^ (?:\*\*\*| {3}) (\S+) -?\d+$/.exec(line);
    if (v) versions.push(v[1]);
  }
  return { candidate, versions };
}

/** The probe's output → the cache and each package's status, in the order asked. */
export function parseStatus(stdout: string): { cache: CacheStatus; packages: PackageStatus[] } {
  let cache: CacheStatus = { mtime: 0, now: 0, aptGet: "apt-get" };
  const packages: PackageStatus[] = [];
  for (const s of sections(stdout)) {
    if (s.word === "cache") cache = parseCache(s.body);
    else if (s.word === "pkg")
      packages.push({ name: s.rest, ...parseDpkg(s.body[0]), versions: [], provided: false });
    else if (s.word === "policy" && packages.length > 0)
      Object.assign(packages[packages.length - 1], parsePolicy(s.body));
    else if (s.word === "provides" && packages.length > 0)
      packages[packages.length - 1].provided = s.body.some((l) => l.trim() !== "");
  }
  return { cache, packages };
}

export interface DebStatus {
  cache: CacheStatus;
  name: string;
  version: string;
  /** The version of that package dpkg has installed. */
  installed?: string;
  /** The installed version is later than the file's (dpkg would downgrade). */
  later: boolean;
}

export function parseDeb(stdout: string): DebStatus {
  const all = sections(stdout);
  const cache = parseCache(all.find((s) => s.word === "cache")?.body ?? []);
  const body = all.find((s) => s.word === "deb")?.body ?? [];
  const dpkg = parseDpkg(body[2]);
  return { cache, name: body[0] ?? "", version: body[1] ?? "", ...dpkg, later: body[3] === "later" };
}
