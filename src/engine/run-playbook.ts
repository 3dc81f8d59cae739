/**
 * runPlaybook: load → for each play: hosts (pattern ∩ --limit) → serial batches → vars_files →
 * facts → pre_tasks, tasks, post_tasks (handlers flushed after each) → recap and exit code.
 *
 * Errors in what the user wrote that are found before anything runs (playbook, inventory, bad
 * options) are thrown as TicklessError (exitCodeFor gives 4 or 5); once hosts are being worked on,
 * problems become failed or unreachable hosts and runPlaybook returns a RunSummary.
 */

import path from "node:path";
import { openConnection } from "../connection/index.js";
import { plannedConnection } from "../connection/planned.js";
import type { Connection, ConnectionSettings } from "../connection/types.js";
import { ConnectionError, EXIT, formatError, formatLocation, OptionError } from "../errors.js";
import { copyInventory } from "../inventory/dynamic.js";
import {
  connectionSettings,
  emptyInventory,
  ensureImplicitLocalhost,
  inventoryVars,
  limitHosts,
  loadInventory,
  magicVars,
  secretValues,
  selectHosts,
} from "../inventory/index.js";
import type { Inventory } from "../inventory/types.js";
import { applyVarsDirs } from "../inventory/vars-dirs.js";
import { defaultRegistry } from "../modules/registry.js";
import { loadPlaybook, loadVarsFile } from "../playbook/index.js";
import type { Play, Playbook } from "../playbook/types.js";
import { setConditionWarnings } from "../template/condition-warning.js";
import { renderString } from "../template/index.js";
import { setLookupWarnings } from "../template/lookups.js";
import { loadVaultSecrets, VaultKeyring, withVault } from "../vault/index.js";
import { serialBatches } from "./batches.js";
import type { PlayContext, RunContext } from "./context.js";
import type { EngineEvent, EventListener } from "./events.js";
import { gatherBatchFacts } from "./facts-task.js";
import { HostLocks } from "./host-locks.js";
import { newHostState } from "./host-state.js";
import type { RunPlaybookOptions, RunSummary } from "./options.js";
import { checkConnectionVars, checkDelegates, checkLimit } from "./preflight.js";
import { RecapCounts } from "./recap-counts.js";
import { runInfo } from "./run-info.js";
import { scrub } from "./secrets.js";
import { runPlayBatch } from "./strategy.js";

const DEFAULT_FORKS = 50;

export async function runPlaybook(options: RunPlaybookOptions): Promise<RunSummary> {
  const keyring = await vaultKeyring(options.vault);
  return withVault(keyring, () => runWithKeyring(options, keyring));
}

/** The run's vault keyring: given, read from its sources, or empty (a `!vault` value used is an error). */
async function vaultKeyring(vault: RunPlaybookOptions["vault"]): Promise<VaultKeyring> {
  if (vault instanceof VaultKeyring) return vault;
  return new VaultKeyring(vault ? await loadVaultSecrets(vault) : []);
}

async function runWithKeyring(options: RunPlaybookOptions, keyring: VaultKeyring): Promise<RunSummary> {
  const registry = defaultRegistry(options.modules ?? []);
  const playbook = withConfigDefaults(
    typeof options.playbook === "string"
      ? await loadPlaybook(options.playbook, {
          registry,
          rolesPath: options.rolesPath,
          libraryPath: options.libraryPath,
          extraVars: options.extraVars,
        })
      : options.playbook,
    options.configDefaults,
  );
  const inventory = await resolveInventory(options.inventory, playbook);
  const forks = options.forks ?? DEFAULT_FORKS;
  if (!Number.isInteger(forks) || forks < 1)
    throw new OptionError(`forks must be a positive integer, got ${forks}`);
  const ut = options.unreachableTimeout;
  if (ut !== undefined && !(Number.isFinite(ut) && ut > 0))
    throw new OptionError(`unreachableTimeout must be a number of seconds above 0, got ${ut}`);
  const extraVars = options.extraVars ?? {};
  checkLimit(inventory, options.limit);
  checkConnectionVars(inventory, playbook, options.limit, extraVars);
  checkDelegates(inventory, playbook);
  const secrets = collectSecrets(inventory, extraVars);
  const listeners = ([] as EventListener[]).concat(options.onEvent ?? []);
  const connections = new Map<string, Promise<Connection>>();
  const stats = new RecapCounts();
  const locks = new HostLocks({
    playbook: playbook.file,
    check: options.check ?? false,
    waitSeconds: lockWait(options.waitLock),
    playsBecome: playbook.plays.some((p) => p.become === true),
    emit: (event) => run.emit(event),
  });
  const info = await runInfo(locks.info);
  const run: RunContext = {
    playbook,
    inventory,
    registry,
    check: options.check ?? false,
    diff: options.diff ?? false,
    forks,
    tags: { only: options.tags ?? [], skip: options.skipTags ?? [] },
    startAtTask: options.startAtTask,
    extraVars,
    rolesPath: options.rolesPath,
    ansibleManaged: options.configDefaults?.ansibleManaged,
    verbosity: options.verbosity ?? 0,
    hosts: new Map(),
    stats,
    info,
    signal: options.signal,
    pace: options.pace,
    emit: (event: EngineEvent) => {
      const clean =
        keyring.revealed.size + keyring.revealedWords.size > 0
          ? scrub(event, [...secrets, ...keyring.revealed], [...keyring.revealedWords])
          : scrub(event, secrets);
      for (const l of listeners) l(clean);
    },
    connect: (host, user) => {
      const vars = hostConnectionVars(inventory, host, extraVars, options, user);
      const key = connectionKey(host, vars);
      let c = connections.get(key);
      if (!c) {
        c = openHost(host, vars, options, locks);
        c.catch(() => undefined);
        connections.set(key, c);
      }
      return c;
    },
    reconnect: async (host, user) => {
      const key = connectionKey(host, hostConnectionVars(inventory, host, extraVars, options, user));
      const old = connections.get(key);
      connections.delete(key);
      await old
        ?.then((c) => {
          locks.connectionClosing(c);
          return c.close();
        })
        .catch(() => undefined);
      return run.connect(host, user);
    },
  };
  run.emit({ type: "playbook_start", file: playbook.file, check: run.check });
  setLookupWarnings((message) => run.emit({ type: "warning", message }));
  // once per task and host (condition-warning.ts)
  const conditionWarnings = new Set<string>();
  setConditionWarnings((message, key) => {
    if (conditionWarnings.has(`${key}\0${message}`)) return;
    conditionWarnings.add(`${key}\0${message}`);
    run.emit({ type: "warning", message });
  });
  try {
    for (const play of playbook.plays) {
      if (options.signal?.aborted) break;
      if (!(await runPlay(run, play, options.limit))) break;
    }
  } finally {
    setLookupWarnings(undefined);
    setConditionWarnings(undefined);
    await locks.releaseAll();
    await closeAll(connections);
  }
  if (run.startAtTask !== undefined) {
    run.emit({ type: "warning", message: `--start-at-task: no task named "${run.startAtTask}" was found` });
  }
  return summarize(run, options.signal);
}

/** ansible.cfg's become and become_user for the plays that set neither. */
function withConfigDefaults(playbook: Playbook, d: RunPlaybookOptions["configDefaults"]): Playbook {
  if (d?.become === undefined && d?.becomeUser === undefined) return playbook;
  return {
    ...playbook,
    plays: playbook.plays.map((p) => ({
      ...p,
      become: p.become ?? d.become,
      becomeUser: p.becomeUser ?? d.becomeUser,
    })),
  };
}

async function resolveInventory(
  source: RunPlaybookOptions["inventory"],
  playbook: Playbook,
): Promise<Inventory> {
  if (source === undefined) {
    // Ansible's implicit localhost takes the playbook's group_vars/all and host_vars/localhost too
    const inv = emptyInventory();
    ensureImplicitLocalhost(inv);
    await applyVarsDirs(inv, playbook.dir);
    return inv;
  }
  // group_by and add_host change the run's inventory, not the caller's
  if (typeof source === "object" && !Array.isArray(source)) return copyInventory(source);
  return loadInventory(source, { playbookDir: playbook.dir });
}

/**
 * Runs one play; false when the playbook must stop, as ansible-playbook does when every host of a
 * batch failed (any_errors_fatal and max_fail_percentage fail them all).
 */
async function runPlay(run: RunContext, play: Play, limit: string | undefined): Promise<boolean> {
  const inv = run.inventory;
  const hosts = limitHosts(inv, selectHosts(inv, play.hosts), limit).filter((h) => {
    const s = run.hosts.get(h);
    return !s || (!s.failed && !s.unreachable);
  });
  for (const h of hosts) {
    if (!run.hosts.has(h)) run.hosts.set(h, newHostState(h));
    run.hosts.get(h)!.ended = false;
  }
  if (hosts.length === 0) {
    run.emit({ type: "warning", message: `play "${play.name}": no hosts matched "${play.hosts}"` });
    run.emit({ type: "play_start", play: play.name, hosts: [] });
    run.emit({ type: "play_end", play: play.name });
    return true;
  }
  const batches = serialBatches(hosts, play.serial);
  for (const [i, batch] of batches.entries()) {
    const pc: PlayContext = {
      run,
      play,
      playHosts: hosts,
      batch,
      varsFiles: new Map(),
      aborted: false,
      batchEnded: false,
    };
    run.emit({
      type: "play_start",
      play: play.name,
      hosts: batch,
      ...(play.serial.length > 0 ? { batch: i + 1, batches: batches.length } : {}),
    });
    await loadPlayVarsFiles(pc);
    if (await wantsFacts(pc)) await gatherBatchFacts(pc);
    await runPlayBatch(pc);
    run.emit({ type: "play_end", play: play.name });
    if (batch.every((h) => run.hosts.get(h)!.failed || run.hosts.get(h)!.unreachable)) return false;
    if (pc.aborted || run.signal?.aborted) return true;
  }
  return true;
}

/** vars_files: paths may be templates (rendered per host); a file that cannot be read fails the host. */
async function loadPlayVarsFiles(pc: PlayContext): Promise<void> {
  const { run, play } = pc;
  if (play.varsFiles.length === 0) return;
  const cache = new Map<string, Promise<Record<string, unknown>>>();
  const failures = new Map<string, string>();
  for (const host of pc.batch) {
    const vars = {
      ...inventoryVars(run.inventory, host),
      ...play.vars,
      ...run.extraVars,
      ...magicVars(run.inventory, host, {
        playbookDir: run.playbook.dir,
        check: run.check,
        playHosts: pc.playHosts,
      }),
    };
    const merged: Record<string, unknown> = {};
    try {
      for (const written of play.varsFiles) {
        const file = path.resolve(
          run.playbook.dir,
          String(await renderString(written, vars, play.locs.vars_files ?? play.loc)),
        );
        let loaded = cache.get(file);
        if (!loaded) {
          loaded = loadVarsFile(file, play.locs.vars_files ?? play.loc);
          cache.set(file, loaded);
        }
        Object.assign(merged, await loaded);
      }
    } catch (err) {
      failures.set(host, formatError(err));
    }
    pc.varsFiles.set(host, merged);
  }
  if (failures.size > 0) failVarsFiles(pc, failures);
}

/** Hosts whose vars_files could not be read fail, under a task of their own named "vars_files". */
function failVarsFiles(pc: PlayContext, failures: Map<string, string>): void {
  const { run, play } = pc;
  const task = "vars_files";
  run.emit({
    type: "task_start",
    play: play.name,
    task,
    path: formatLocation(play.locs.vars_files ?? play.loc),
    hosts: [...failures.keys()],
  });
  for (const [host, msg] of failures) {
    const result = { changed: false, failed: true, skipped: false, msg };
    run.stats.record(host, "failed", result, false);
    run.emit({ type: "host_result", play: play.name, task, host, status: "failed", result, diff: false });
    run.hosts.get(host)!.failed = true;
  }
  run.emit({ type: "task_end", play: play.name, task });
}

async function wantsFacts(pc: PlayContext): Promise<boolean> {
  const g = pc.play.gatherFacts;
  if (typeof g === "boolean") return g;
  const rendered = String(await renderString(g, pc.run.extraVars, pc.play.loc)).trim();
  return /^(true|yes|on|1)$/i.test(rendered);
}

/**
 * The vars a host's connection is made from: ansible.cfg's defaults < a `remote_user` keyword <
 * the inventory's vars < extra vars (Ansible's ansible_user wins over the keyword).
 */
function hostConnectionVars(
  inv: Inventory,
  host: string,
  extraVars: Record<string, unknown>,
  options: RunPlaybookOptions,
  remoteUser: string | undefined,
): Record<string, unknown> {
  return {
    ...options.configDefaults?.connectionVars,
    ...(remoteUser === undefined ? {} : { ansible_user: remoteUser }),
    ...inventoryVars(inv, host),
    ...extraVars,
  };
}

/** One connection per host and login user: a `remote_user` the host's vars override shares the host's. */
function connectionKey(host: string, vars: Record<string, unknown>): string {
  try {
    return `${host}\u0000${connectionSettings(host, vars).user ?? ""}`;
  } catch {
    return host;
  }
}

/**
 * Opens a host's connection, then takes its host lock (host-locks.ts) while the connection opens
 * what the first task will use (Connection.prepare). A failure to connect
 * becomes a ConnectionError (the host is unreachable); a refused lock fails the host.
 */
async function openHost(
  host: string,
  vars: Record<string, unknown>,
  options: RunPlaybookOptions,
  locks: HostLocks,
): Promise<Connection> {
  let opened: { conn: Connection; settings: ConnectionSettings };
  try {
    const settings = connectionSettings(host, vars);
    if (options.hostKeyChecking) settings.hostKeyChecking = options.hostKeyChecking;
    if (settings.unreachableTimeoutMs === undefined && options.unreachableTimeout !== undefined)
      settings.unreachableTimeoutMs = Math.round(options.unreachableTimeout * 1000);
    opened = { conn: await (options.connect ?? openConnection)(settings), settings };
  } catch (err) {
    if (err instanceof ConnectionError) throw err;
    throw new ConnectionError(`cannot connect to ${host}: ${formatError(err)}`, { cause: err });
  }
  // The first task's shell and SFTP open while the lock is taken; nothing runs before it is held.
  opened.conn.prepare?.();
  const guarded = await locks.guard(opened.conn, opened.settings);
  // a check run reads each host through the overlay of what its earlier tasks planned
  return options.check ? plannedConnection(guarded) : guarded;
}

function lockWait(seconds: number | undefined): number {
  if (seconds === undefined) return 0;
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new OptionError(`waitLock must be a number of seconds (0 or more), got ${seconds}`);
  return seconds;
}

async function closeAll(connections: Map<string, Promise<Connection>>): Promise<void> {
  await Promise.all(
    [...connections.values()].map(async (c) => {
      try {
        await (await c).close();
      } catch {}
    }),
  );
}

function collectSecrets(inv: Inventory, extraVars: Record<string, unknown>): string[] {
  const all = new Set<string>(secretValues(extraVars));
  for (const host of inv.hosts.keys()) {
    for (const s of secretValues({ ...inventoryVars(inv, host), ...extraVars })) all.add(s);
  }
  return [...all];
}

/**
 * Exit code as ansible-playbook: interrupted 99 > unreachable 4 > failed 2 > ok 0, except that a
 * run any_errors_fatal or max_fail_percentage ended is failed (2), as its last play's result.
 */
function summarize(run: RunContext, signal: AbortSignal | undefined): RunSummary {
  const states = [...run.hosts.values()];
  const failedHosts = states.filter((s) => s.failed && !s.unreachable).map((s) => s.name);
  const unreachableHosts = states.filter((s) => s.unreachable).map((s) => s.name);
  let exitCode: number = EXIT.OK;
  if (signal?.aborted) exitCode = EXIT.INTERRUPTED;
  else if (run.brokeOff) exitCode = EXIT.HOST_FAILED;
  else if (unreachableHosts.length > 0) exitCode = EXIT.HOST_UNREACHABLE;
  else if (failedHosts.length > 0) exitCode = EXIT.HOST_FAILED;
  const stats = run.stats.snapshot();
  const rebootPending = states.filter((s) => s.rebootPending).map((s) => s.name);
  run.emit({
    type: "recap",
    stats,
    rebootPending,
    ...(run.check ? { check: run.stats.checkSummary() } : {}),
  });
  run.emit({ type: "playbook_end", exitCode });
  return { exitCode, stats, totals: run.stats.totals(), failedHosts, unreachableHosts, rebootPending };
}
