/** The `tickless` command line, testable in-process: runCli(argv, io) → exit code. */
import { Command, CommanderError } from "commander";
import { EXIT, exitCodeFor, formatError } from "../errors.js";
import { PlaybookErrors } from "../playbook/index.js";
import { configCommand } from "./config.js";
import { lintCommand } from "./lint.js";
import type { CliIo } from "./reporters.js";
import { runCommand } from "./run.js";
import { declareRunOptions, toRunCommandOptions } from "./run-options.js";
import { statusCommand } from "./status.js";
import { validateCommand } from "./validate.js";
import { packageVersion } from "./version.js";

export type { CliIo } from "./reporters.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The program; each action stores its exit code in `result.code`. */
function buildProgram(io: CliIo, result: { code: number }): Command {
  const program = new Command("tickless")
    .description("Run Ansible-style YAML playbooks: verified, idempotent, with a check mode that cannot lie.")
    .version(packageVersion(), "--version", "print the version")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => {},
    });

  declareRunOptions(program.command("run").description("run a playbook")).action(
    async (playbook: string, options: Record<string, any>) => {
      result.code = await runCommand(toRunCommandOptions(playbook, options), io);
    },
  );

  program
    .command("validate")
    .description("check playbooks (schemas and rules) without connecting to any host")
    .argument("<playbook...>", "playbook files")
    .option("-i, --inventory <inventory>", "also load this inventory (repeatable)", collect, [])
    .option(
      "--vault-id <[label@]source>",
      "a vault password: a file or an executable script (repeatable)",
      collect,
      [],
    )
    .option(
      "--vault-password-file <file>",
      "a file holding the vault password, or a script printing it",
      collect,
      [],
    )
    .action(
      async (
        files: string[],
        options: { inventory: string[]; vaultId: string[]; vaultPasswordFile: string[] },
      ) => {
        result.code = await validateCommand(files, options.inventory, io, {
          ids: options.vaultId,
          passwordFiles: options.vaultPasswordFile,
        });
      },
    );

  program
    .command("lint")
    .description(
      "for an Ansible repository: every construct tickless does not run (module, keyword, filter, lookup, ansible.cfg key), with file:line and what tickless does instead (exit 0 none, 4 some)",
    )
    .argument("<playbook...>", "playbook files")
    .option(
      "-i, --inventory <inventory>",
      "also lint this inventory and its group_vars/ (repeatable)",
      collect,
      [],
    )
    .option("--json", "one JSON document: { findings: [{ file, line, column, code, message, hint }], count }")
    .action(async (files: string[], options: { inventory: string[]; json?: boolean }) => {
      result.code = await lintCommand(files, options, io);
    });

  program
    .command("config")
    .description(
      "the ansible.cfg a run reads: each setting tickless takes from it, its value and where it came from (file:line or ANSIBLE_* variable), and the keys it ignores",
    )
    .option(
      "--json",
      "one JSON document: { file, settings: [{ setting, value, origin, written }], ignored, warnings }",
    )
    .action(async (options: { json?: boolean }) => {
      result.code = await configCommand(options, io);
    });

  program
    .command("status")
    .description(
      "day two, read-only: per host, tuned or not, the CPU set, the last apply, reboot pending and drift from the applied-state record (exit 0 clean, 2 drift or reboot pending, 3 unreachable)",
    )
    .requiredOption(
      "-i, --inventory <inventory>",
      "inventory file, directory or host list (repeatable)",
      collect,
      [],
    )
    .option("-l, --limit <pattern>", "only the hosts this pattern selects")
    .option("--json", "one JSON document (src/status/status.schema.json)")
    .option("--prometheus <file>", "also write node_exporter textfile metrics to FILE (atomically)")
    .action(async (options: { inventory: string[]; limit?: string; json?: boolean; prometheus?: string }) => {
      result.code = await statusCommand(options, io);
    });

  return program;
}

/** One line for a usage error, with a hint pointing at --help. */
function usageError(err: CommanderError, argv: string[]): string {
  const message = err.message.replace(/\s*\n\s*/g, " ").trim();
  const sub = ["run", "validate", "lint", "config", "status"].find((c) => argv.includes(c));
  return `${message} (hint: see "tickless ${sub ? `${sub} ` : ""}--help")`;
}

/** Each error as one located paragraph, `file:line:column: message (hint: …)` (several for PlaybookErrors); the stack only when debugging. */
function describeError(err: unknown, debug: boolean): string {
  if (debug && err instanceof Error && err.stack) return `${err.stack}\n`;
  const all = err instanceof PlaybookErrors ? err.errors : [err];
  return all.map((e) => `${formatError(e)}\n`).join("");
}

/** Runs the command line and returns the exit code; never throws, never prints a stack trace unless TICKLESS_DEBUG=1. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const result = { code: EXIT.OK as number };
  const debug = (io.env ?? process.env).TICKLESS_DEBUG === "1";
  try {
    await buildProgram(io, result).parseAsync(argv, { from: "user" });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.OK;
      if (err.code === "commander.help" || err.code === "commander.executeSubCommandAsync")
        return EXIT.BAD_OPTIONS;
      io.stderr.write(`${usageError(err, argv)}\n`);
      return EXIT.BAD_OPTIONS;
    }
    io.stderr.write(describeError(err, debug));
    return exitCodeFor(err);
  }
}
