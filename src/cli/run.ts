/** `tickless run`: syntax check, listings, or a real run with reporters; returns the exit code. */
import { once } from "node:events";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { type AnsibleConfig, loadAnsibleConfig } from "../config/ansible-cfg.js";
import type { ConfigDefaults, RunPlaybookOptions } from "../engine/options.js";
import { runPlaybook } from "../engine/run-playbook.js";
import { EXIT, formatError, OptionError, ParseError, TicklessError } from "../errors.js";
import { loadInventory } from "../inventory/index.js";
import { defaultRolesPath, loadPlaybook, parseExtraVars, validatePlaybook } from "../playbook/index.js";
import type { Reporter } from "../reporters/types.js";
import { loadVaultSecrets, VaultKeyring, type VaultSources, withVault } from "../vault/index.js";
import { listPlaybook } from "./list.js";
import { askOnTerminal } from "./prompt.js";
import { type CliIo, chooseReporters } from "./reporters.js";
import type { RunCommandOptions } from "./run-options.js";

/** Fails with a located FILE_NOT_FOUND before anything else reads the playbook. */
export async function assertPlaybookExists(file: string): Promise<void> {
  const found = await stat(resolve(file)).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!found) {
    throw new ParseError("FILE_NOT_FOUND", "no such playbook file", {
      location: { file },
      hint: "the path is relative to the current directory",
    });
  }
}

/** What ansible.cfg gives a run: defaults below the inventory's, the playbook's and the flags'. */
export function configDefaults(cfg: AnsibleConfig): ConfigDefaults {
  const vars: Record<string, unknown> = {};
  if (cfg.remoteUser !== undefined) vars.ansible_user = cfg.remoteUser;
  if (cfg.privateKeyFile !== undefined) vars.ansible_private_key_file = cfg.privateKeyFile;
  if (cfg.timeout !== undefined) vars.ansible_timeout = cfg.timeout;
  if (cfg.hostKeyChecking !== undefined) vars.ansible_host_key_checking = cfg.hostKeyChecking;
  return {
    connectionVars: vars,
    become: cfg.become,
    becomeUser: cfg.becomeUser,
    ...(cfg.ansibleManaged !== undefined ? { ansibleManaged: cfg.ansibleManaged } : {}),
  };
}

/** The library options for a run, with -e values read and ansible.cfg's defaults under the flags. */
export async function toRunPlaybookOptions(
  o: RunCommandOptions,
  cwd = process.cwd(),
  cfg: AnsibleConfig = { origins: {}, sources: {}, warnings: [], ignored: [] },
): Promise<RunPlaybookOptions> {
  return {
    playbook: resolve(cwd, o.playbook),
    inventory: o.inventory.length ? o.inventory : cfg.inventory,
    rolesPath: cfg.rolesPath,
    libraryPath: cfg.library,
    configDefaults: configDefaults(cfg),
    check: o.check,
    diff: o.diff,
    limit: o.limit,
    tags: o.tags,
    skipTags: o.skipTags,
    extraVars: o.extraVars.length ? await readExtraVars(o.extraVars, cwd) : {},
    forks: o.forks ?? cfg.forks,
    startAtTask: o.startAtTask,
    verbosity: o.verbosity,
    hostKeyChecking: o.hostKeyChecking,
    waitLock: o.waitLock,
    unreachableTimeout: o.unreachableTimeout,
    vault: {
      ids: o.vaultIds,
      passwordFiles: [...o.vaultPasswordFiles, ...(cfg.vaultPasswordFile ? [cfg.vaultPasswordFile] : [])],
      askPass: o.askVaultPass,
      prompt: askOnTerminal,
    },
  };
}

/** -e values; any problem with them (a missing @file too) is a bad option: exit 5. */
async function readExtraVars(values: string[], cwd: string): Promise<Record<string, unknown>> {
  try {
    return await parseExtraVars(values, cwd);
  } catch (err) {
    if (!(err instanceof TicklessError) || err.code === "EXTRA_VARS") throw err;
    throw new OptionError(err.message, { hint: err.hint, location: err.location, cause: err });
  }
}

function writeLines(stream: CliIo["stdout"], lines: string[]): void {
  stream.write(lines.map((l) => `${l}\n`).join(""));
}

function warningText(w: unknown): string {
  return `[WARNING]: ${typeof w === "string" ? w : formatError(w)}`;
}

async function syntaxCheck(o: RunCommandOptions, io: CliIo, options: RunPlaybookOptions): Promise<number> {
  const { rolesPath, extraVars, libraryPath } = options;
  const { errors, warnings } = await validatePlaybook(resolve(o.playbook), {
    rolesPath,
    extraVars,
    libraryPath,
  });
  writeLines(io.stderr, warnings.map(warningText));
  if (errors.length) {
    writeLines(
      io.stderr,
      errors.map((e) => formatError(e)),
    );
    return EXIT.PARSE_ERROR;
  }
  writeLines(io.stdout, ["", `playbook: ${o.playbook}`]);
  return EXIT.OK;
}

async function list(o: RunCommandOptions, io: CliIo, options: RunPlaybookOptions): Promise<number> {
  const playbook = await loadPlaybook(resolve(o.playbook), {
    rolesPath: options.rolesPath,
    extraVars: options.extraVars,
  });
  const inventory = await loadInventory((options.inventory as string[] | undefined) ?? [], {
    playbookDir: playbook.dir,
  });
  const lines = listPlaybook(playbook, inventory, {
    hosts: o.listHosts,
    tasks: o.listTasks,
    limit: o.limit,
    tags: { only: o.tags, skip: o.skipTags },
    startAtTask: o.startAtTask,
    shownAs: o.playbook,
  });
  writeLines(io.stdout, lines);
  return EXIT.OK;
}

async function closeAll(reporters: Reporter[]): Promise<void> {
  for (const r of reporters) await r.close?.();
}

/**
 * A promise while an output stream holds more than its high-water mark (a pipe read slower than a
 * long loop prints): the run waits for it to drain, or to end (a reader gone), or an abort.
 */
function drained(streams: CliIo["stdout"][], signal: AbortSignal | undefined): Promise<void> | undefined {
  const full = streams.filter((s) => s.writableNeedDrain);
  if (full.length === 0) return undefined;
  return Promise.all(full.map((s) => drainOrClose(s, signal))).then(() => undefined);
}

/** Waits for `drain` or `close`, then drops both listeners (an abort ends the wait too). */
async function drainOrClose(stream: CliIo["stdout"], signal: AbortSignal | undefined): Promise<void> {
  const done = new AbortController();
  const onAbort = () => done.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const ends = [
      once(stream, "drain", { signal: done.signal }),
      once(stream, "close", { signal: done.signal }),
    ];
    await Promise.race(ends);
  } catch {
    // aborted: the run stops on its own signal
  } finally {
    done.abort();
    signal?.removeEventListener("abort", onAbort);
  }
}

export async function runCommand(o: RunCommandOptions, io: CliIo): Promise<number> {
  await assertPlaybookExists(o.playbook);
  const env = io.env ?? process.env;
  const cfg = await loadAnsibleConfig(env);
  cfg.rolesPath ??= defaultRolesPath(env);
  writeLines(io.stderr, cfg.warnings.map(warningText));
  const options = await toRunPlaybookOptions(o, process.cwd(), cfg);
  // the passwords are read once (a prompt asks once), before any file is loaded
  const keyring = new VaultKeyring(await loadVaultSecrets(options.vault as VaultSources));
  options.vault = keyring;
  if (o.syntaxCheck) return withVault(keyring, () => syntaxCheck(o, io, options));
  if (o.listHosts || o.listTasks) return withVault(keyring, () => list(o, io, options));
  const reporters = chooseReporters(o, io);
  try {
    const summary = await runPlaybook({
      ...options,
      onEvent: reporters.map((r) => r.onEvent.bind(r)),
      signal: io.signal,
      pace: () => drained([io.stdout, io.stderr], io.signal),
    });
    return io.signal?.aborted ? EXIT.INTERRUPTED : summary.exitCode;
  } catch (err) {
    if (io.signal?.aborted) return EXIT.INTERRUPTED;
    throw err;
  } finally {
    await closeAll(reporters);
  }
}
