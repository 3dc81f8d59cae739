/**
 * The `dnf` module's decisions, pure: which specs dnf is asked to install, upgrade or remove, as
 * Ansible's dnf module decides them (its _is_installed / _mark_package_install / ensure), the dnf
 * command lines with Ansible's options, and the reading of what dnf answers: the transaction table
 * of `--assumeno` and the specs it found no match for.
 */
import { quote } from "shell-quote";
import { fnmatch } from "../util/fnmatch.js";
import type { DnfArgs } from "./dnf-args.js";

/** An installed package, as `rpm -qa` gives it with RPM_QUERY's format. */
export interface Rpm {
  name: string;
  epoch: string;
  version: string;
  release: string;
  arch: string;
}

/** rpm's query of the installed packages, one a line: name, epoch, version, release, arch. */
export const RPM_FORMAT = "%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n";

export function rpmQuery(args: DnfArgs): string {
  return `${quote(["rpm", "--root", args.installroot, "-qa", "--qf", RPM_FORMAT])} | LC_ALL=C sort`;
}

export function parseRpms(stdout: string): Rpm[] {
  return stdout
    .split("\n")
    .filter((l) => l.includes("\t"))
    .map((l) => {
      const [name, epoch, version, release, arch] = l.split("\t");
      return { name, epoch, version, release, arch };
    });
}

/** How dnf (hawkey) names a package: name-[epoch:]version-release.arch. */
export function nevra(p: Rpm): string {
  const e = p.epoch === "0" || p.epoch === "" ? "" : `${p.epoch}:`;
  return `${p.name}-${e}${p.version}-${p.release}.${p.arch}`;
}

const ARCHES = new Set(
  "aarch64 alpha alphaev5 alphaev56 alphaev6 alphaev67 alphapca56 amd64 armv3l armv4b armv4l armv5tejl armv5tel armv5tl armv6hl armv6l armv7hl armv7hnl armv7l athlon geode i386 i486 i586 i686 ia32e ia64 m68k mips mips64 mips64el mips64r6 mips64r6el mipsel mipsr6 mipsr6el noarch pentium3 pentium4 ppc ppc32dy4 ppc64 ppc64iseries ppc64le ppc64p7 ppc64pseries ppc8260 ppc8560 ppciseries ppcpseries riscv64 s390 s390x sh sh3 sh4 sh4a sparc sparc64 sparc64v sparcv8 sparcv9 sparcv9v x86_64".split(
    " ",
  ),
);

/** Ansible's _split_package_arch: `name.arch` when arch is an rpm architecture. */
function splitArch(spec: string): { rest: string; arch?: string } {
  const i = spec.lastIndexOf(".");
  if (i > 0 && ARCHES.has(spec.slice(i + 1))) return { rest: spec.slice(0, i), arch: spec.slice(i + 1) };
  return { rest: spec };
}

const NEVR = /^(\S+)-(?:(\d*):)?(.*)-(~?\w+[\w.+]*)/;

/** Ansible's _packagename_dict: name, epoch, version, release of a spec that carries all of NVR. */
function nevrOf(spec: string): Omit<Rpm, "arch"> | undefined {
  const m = NEVR.exec(spec);
  if (!m?.[3] || !/^\d+$/.test(m[3].split(".")[0])) return undefined;
  let [name, epoch] = [m[1], m[2] || "0"];
  if (name.includes(":")) {
    const parts = name.split(":");
    epoch = parts[0];
    name = parts.slice(1).join("");
  }
  return { name, epoch: String(Number(epoch)), version: m[3], release: m[4] };
}

/** Ansible's _is_installed: the spec's exact name (and arch, and NVR when it carries one) installed. */
export function isInstalled(spec: string, rpms: readonly Rpm[]): boolean {
  const bare = spec.endsWith(".rpm") ? spec.slice(0, -4) : spec;
  const { rest, arch } = splitArch(bare);
  const nevr = nevrOf(arch ? rest : bare);
  return rpms.some(
    (p) =>
      (arch === undefined || p.arch === arch) &&
      (nevr
        ? p.name === nevr.name &&
          p.epoch === nevr.epoch &&
          p.version === nevr.version &&
          p.release === nevr.release
        : p.name === rest),
  );
}

/** The installed packages a non-wildcard spec names, as dnf's Subject reads it (name, NVR, NEVRA …). */
export function installedMatches(spec: string, rpms: readonly Rpm[]): Rpm[] {
  return rpms.filter((p) => {
    const e = `${p.epoch}:`;
    const forms = [
      p.name,
      `${p.name}.${p.arch}`,
      `${p.name}-${p.version}`,
      `${p.name}-${p.version}-${p.release}`,
      `${p.name}-${p.version}-${p.release}.${p.arch}`,
      `${p.name}-${e}${p.version}-${p.release}`,
      `${p.name}-${e}${p.version}-${p.release}.${p.arch}`,
    ];
    return forms.some((f) => fnmatch(f, spec));
  });
}

export function hasWildcard(spec: string): boolean {
  return spec.includes("*");
}

/** The dnf subcommands a task runs, each with its specs, in order. */
export interface DnfStep {
  verb: "install" | "upgrade" | "remove" | "autoremove";
  specs: string[];
}

/** Ansible's ensure(): which specs go to which dnf transaction. */
export function planSteps(args: DnfArgs, rpms: readonly Rpm[]): DnfStep[] {
  const steps: DnfStep[] = [];
  const add = (verb: DnfStep["verb"], specs: string[]) => {
    if (specs.length > 0) steps.push({ verb, specs });
  };
  if (args.state === "absent") {
    const remove: string[] = [];
    for (const spec of args.name) {
      if (hasWildcard(spec)) remove.push(spec);
      else remove.push(...installedMatches(spec, rpms).map(nevra));
    }
    add("remove", [...new Set(remove)]);
    if (args.autoremove) steps.push({ verb: "autoremove", specs: [] });
    return steps;
  }
  if (args.state === "latest" && args.name.length === 1 && args.name[0] === "*") {
    steps.push({ verb: "upgrade", specs: [] });
    return steps;
  }
  const install = args.name.filter((s) => !isInstalled(s, rpms));
  add("install", install);
  if (args.state === "latest")
    add(
      "upgrade",
      args.name.filter((s) => isInstalled(s, rpms)),
    );
  return steps;
}

/** dnf's options for the task: no questions, the task's root, configuration, repositories and keys. */
export function dnfOptions(args: DnfArgs): string[] {
  const argv = ["dnf", "-y"];
  if (args.installroot !== "/") argv.push(`--installroot=${args.installroot}`);
  if (args.conf_file) argv.push("-c", args.conf_file);
  if (args.disable_gpg_check) argv.push("--nogpgcheck");
  for (const r of args.disablerepo) argv.push(`--disablerepo=${r}`);
  for (const r of args.enablerepo) argv.push(`--enablerepo=${r}`);
  if (args.update_cache) argv.push("--refresh");
  return argv;
}

/** One step's command line; `dryRun`: `--assumeno`, which resolves and prints the transaction only. */
export function stepCommand(args: DnfArgs, step: DnfStep, dryRun: boolean): string {
  const argv = [...dnfOptions(args), "--setopt=strict=False"];
  if (step.verb === "remove") argv.push(`--setopt=clean_requirements_on_remove=${args.autoremove}`);
  if (dryRun) argv.push("--assumeno");
  argv.push(step.verb, ...step.specs);
  return quote(argv);
}

/** `update_cache` with nothing named: the metadata fetched again. */
export function makecacheCommand(args: DnfArgs): string {
  return quote([...dnfOptions(args), "makecache"]);
}

/** A package of a transaction: its NEVRA and whether it goes in or out. */
export interface TxPackage {
  nevra: string;
  name: string;
  arch: string;
  action: "install" | "upgrade" | "remove";
}

const SECTIONS: [RegExp, TxPackage["action"]][] = [
  [
    /^(Installing|Reinstalling|Downgrading|Installing dependencies|Installing weak dependencies):$/,
    "install",
  ],
  [/^Upgrading:$/, "upgrade"],
  [/^(Removing|Removing dependent packages|Removing unused dependencies|Erasing):$/, "remove"],
];

const UNITS = new Set(["k", "M", "G", "T"]);

/**
 * The transaction table dnf prints before it asks: each section's rows (name, arch, version, repo,
 * size), a row possibly wrapped when the name is long.
 */
export function parseTransaction(stdout: string): TxPackage[] {
  const out: TxPackage[] = [];
  let action: TxPackage["action"] | undefined;
  let tokens: string[] = [];
  const flush = () => {
    while (action && tokens.length >= 5) {
      const [name, arch, evr, , size] = tokens;
      tokens = tokens.slice(UNITS.has(tokens[5] ?? "") && /^[\d.]+$/.test(size) ? 6 : 5);
      out.push({ nevra: `${name}-${evr}.${arch}`, name, arch, action });
    }
    tokens = [];
  };
  for (const line of stdout.split("\n")) {
    const trimmed = line.trim();
    const section = SECTIONS.find(([re]) => re.test(trimmed));
    if (section) {
      flush();
      action = section[1];
      continue;
    }
    if (trimmed === "" || /^=+$/.test(trimmed) || /^Transaction Summary$/.test(trimmed)) {
      flush();
      if (trimmed === "Transaction Summary") action = undefined;
      continue;
    }
    if (action && line.startsWith(" ")) tokens.push(...trimmed.split(/\s+/));
    else if (action) {
      flush();
      action = undefined;
    }
  }
  flush();
  return out;
}

/** The specs dnf found nothing for. */
export function unmatched(output: string): string[] {
  return [...output.matchAll(/^No match for argument: (.+)$/gm)].map((m) => m[1].trim());
}

/** dnf's own error lines (`Error: …`), for a failure's message. */
export function dnfErrors(output: string): string {
  return output
    .split("\n")
    .filter((l) => l.startsWith("Error:"))
    .join("\n");
}

/**
 * Ansible's results list: "Installed: nevra" for what goes in, "Removed: nevra" for what goes out
 * (an upgrade's old version too, as the transaction's remove set holds it).
 */
export function resultLines(tx: readonly TxPackage[], rpms: readonly Rpm[]): string[] {
  const installed = tx.filter((p) => p.action !== "remove").map((p) => `Installed: ${p.nevra}`);
  const removed = tx
    .flatMap((p) =>
      p.action === "remove"
        ? [p.nevra]
        : p.action === "upgrade"
          ? rpms.filter((r) => r.name === p.name && r.arch === p.arch).map(nevra)
          : [],
    )
    .map((n) => `Removed: ${n}`);
  return [...installed, ...removed];
}

/** Ansible's warning when the installroot names no release (dnf's $releasever stays unset). */
export const RELEASEVER_WARNING =
  'Unable to detect release version (use "releasever" option to specify release version)';

const RELEASE_PROVIDES = [
  "system-release(releasever)",
  "system-release",
  "distribution-release",
  "redhat-release",
];

/** Prints `release` when dnf finds a release version in the root (a vars file, or a release package). */
export function releaseCommand(args: DnfArgs): string {
  const root = args.installroot.replace(/\/+$/, "");
  const vars = quote(["test", "-s", `${root}/etc/dnf/vars/releasever`]);
  const rpm = quote(["rpm", "--root", args.installroot, "-q", "--whatprovides", ...RELEASE_PROVIDES]);
  return `{ ${vars} || ${rpm} | grep -qv 'no package provides'; } >/dev/null 2>&1 && echo release`;
}

export function releaseverWarning(stdout: string): string[] {
  return stdout.includes("release") ? [] : [RELEASEVER_WARNING];
}
