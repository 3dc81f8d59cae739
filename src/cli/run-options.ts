/** The options of `tickless run`, declared once for the program and for parseRunOptions. */
import { Command, InvalidArgumentError, Option } from "commander";
import type { RunPlaybookOptions } from "../engine/options.js";

export type HostKeyChecking = NonNullable<RunPlaybookOptions["hostKeyChecking"]>;
export type ReporterChoice = "plain" | "listr" | "json";

/** What the command line asked for, before extra vars are read. */
export interface RunCommandOptions {
  playbook: string;
  inventory: string[];
  check: boolean;
  diff: boolean;
  limit?: string;
  tags: string[];
  skipTags: string[];
  /** Raw -e values: key=value, @file.yml, or JSON/YAML text. */
  extraVars: string[];
  forks?: number;
  syntaxCheck: boolean;
  listHosts: boolean;
  listTasks: boolean;
  startAtTask?: string;
  verbosity: number;
  json: boolean;
  junit?: string;
  hostKeyChecking?: HostKeyChecking;
  reporter?: ReporterChoice;
  /** --compact / --no-compact: hosts grouped by status in the reporter and recap (default: above 10 hosts, listr only). */
  compact?: boolean;
  /** Seconds to wait for a host lock held by another run. */
  waitLock?: number;
  /** Seconds without an answer to SSH keepalives before a host is unreachable. */
  unreachableTimeout?: number;
  /** --vault-id `[label@]source` values. */
  vaultIds: string[];
  /** --vault-password-file values. */
  vaultPasswordFiles: string[];
  askVaultPass: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Repeatable comma lists: `-t a,b -t c` → [a, b, c]. */
function collectList(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

function countVerbose(_value: string, previous: number): number {
  return previous + 1;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of 1 or more.");
  return n;
}

/** A number of seconds: above 0, or 0 too when `zero` is allowed. */
function seconds(zero: boolean): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (n === 0 && !zero))
      throw new InvalidArgumentError(`expected a number of seconds${zero ? " (0 or more)" : " above 0"}.`);
    return n;
  };
}

/** Declares the run options and the PLAYBOOK argument on a command. */
export function declareRunOptions(cmd: Command): Command {
  return cmd
    .argument("<playbook>", "playbook file")
    .option("-i, --inventory <inventory>", "inventory file, directory or host list (repeatable)", collect, [])
    .option("-C, --check", "don't change anything; report what would change", false)
    .option("-D, --diff", "show unified diffs of what changes", false)
    .option("-l, --limit <pattern>", "further limit hosts to a pattern")
    .option("-t, --tags <tags>", "only run tasks with these tags (comma list, repeatable)", collectList, [])
    .option("--skip-tags <tags>", "skip tasks with these tags (comma list, repeatable)", collectList, [])
    .option("-e, --extra-vars <vars>", "key=value, @file.yml or JSON (repeatable)", collect, [])
    .option("-f, --forks <n>", "hosts worked on at once", positiveInt)
    .option(
      "--vault-id <[label@]source>",
      "a vault password: a file, an executable script or 'prompt' (repeatable)",
      collect,
      [],
    )
    .option(
      "--vault-password-file <file>",
      "a file holding the vault password, or an executable script printing it (repeatable)",
      collect,
      [],
    )
    .option("-J, --ask-vault-pass", "ask for the vault password on the terminal", false)
    .option("--syntax-check", "check the playbook's syntax and exit", false)
    .option("--list-hosts", "list the hosts each play would run on and exit", false)
    .option("--list-tasks", "list the tasks each play would run and exit", false)
    .option("--start-at-task <name>", "start at the task with this name")
    .option("-v, --verbose", "more output (repeatable: -vv, -vvv)", countVerbose, 0)
    .option("--json", "one JSON object per event on stdout", false)
    .option("--junit <file>", "also write a JUnit XML report to FILE")
    .option(
      "--wait-lock <seconds>",
      "wait up to SECONDS for a host locked by another run (default: that host fails at once)",
      seconds(true),
    )
    .option(
      "--unreachable-timeout <seconds>",
      "give up a connected host that answers no SSH keepalive for SECONDS (default 60)",
      seconds(false),
    )
    .addOption(
      new Option("--host-key-checking <mode>", "SSH host key checking").choices([
        "strict",
        "accept-new",
        "off",
      ]),
    )
    .addOption(
      new Option("--reporter <name>", "output style (default: listr on a terminal, else plain)").choices([
        "plain",
        "listr",
        "json",
      ]),
    )
    .option(
      "--compact",
      "for many hosts: group hosts by status, name the slowest and failed ones (listr: default above 10 hosts)",
    )
    .option("--no-compact", "one recap line per host whatever their number");
}

/** Builds the options object from commander's parsed values. */
export function toRunCommandOptions(playbook: string, o: Record<string, any>): RunCommandOptions {
  return {
    playbook,
    inventory: o.inventory,
    check: o.check,
    diff: o.diff,
    limit: o.limit,
    tags: o.tags,
    skipTags: o.skipTags,
    extraVars: o.extraVars,
    forks: o.forks,
    syntaxCheck: o.syntaxCheck,
    listHosts: o.listHosts,
    listTasks: o.listTasks,
    startAtTask: o.startAtTask,
    verbosity: o.verbose,
    json: o.json,
    junit: o.junit,
    hostKeyChecking: o.hostKeyChecking,
    reporter: o.reporter,
    compact: o.compact,
    waitLock: o.waitLock,
    unreachableTimeout: o.unreachableTimeout,
    vaultIds: o.vaultId,
    vaultPasswordFiles: o.vaultPasswordFile,
    askVaultPass: o.askVaultPass,
  };
}

/** Parses the arguments after `tickless run`; throws commander's error on bad options. */
export function parseRunOptions(argv: string[]): RunCommandOptions {
  let parsed: RunCommandOptions | undefined;
  const cmd = declareRunOptions(new Command("run"))
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .action((playbook: string, o: Record<string, any>) => {
      parsed = toRunCommandOptions(playbook, o);
    });
  cmd.parse(argv, { from: "user" });
  if (!parsed) throw new Error("no options parsed");
  return parsed;
}
