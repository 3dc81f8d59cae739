/**
 * The host locks of one run (host-lock.ts holds the protocol): taken when a host's connection
 * opens, before facts and the first task, for a run that may change the host; peeked at, never
 * taken, in check mode; released when the run ends.
 *
 * A refused lock fails THAT host (a TASK error: exit code 2, as any failed host), with who holds
 * it and since when; the other hosts go on. A holder that dies with its connection (a reboot, a
 * reconnect) is taken again, same run id, when the engine opens the host's next connection.
 */
import { randomUUID } from "node:crypto";
import { hostname, userInfo } from "node:os";
import type { Connection, ConnectionSettings } from "../connection/types.js";
import { TicklessError } from "../errors.js";
import type { EngineEvent } from "./events.js";
import {
  DEFAULT_LOCK_FILE,
  describeHolder,
  type HeldLock,
  type LockInfo,
  peekLock,
  takeLock,
} from "./host-lock.js";

const RETAKE_WAIT_SECONDS = 10;

export interface HostLocksOptions {
  playbook: string;
  check: boolean;
  /** --wait-lock: seconds to wait for a lock held by another run (default 0: refuse at once). */
  waitSeconds: number;
  /** Whether some play of the playbook uses become (the holder then uses it too). */
  playsBecome: boolean;
  emit(event: EngineEvent): void;
}

interface Entry {
  held: HeldLock;
  /** The connection the holder runs on (its release goes through it). */
  conn: Connection;
}

export class HostLocks {
  readonly info: LockInfo;
  /** Keyed by where the lock lives (one machine may appear under several inventory names). */
  private readonly entries = new Map<string, Promise<Entry>>();
  /** SSH connections closed by a reconnect: a holder on one of them is gone, even before its channel says so. */
  private readonly closed = new WeakSet<Connection>();

  constructor(private readonly o: HostLocksOptions) {
    this.info = {
      run_id: randomUUID(),
      user: safeUser(),
      controller: hostname(),
      playbook: o.playbook,
      started: new Date().toISOString(),
    };
  }

  /**
   * Called with each newly opened connection: takes the host's lock (or, in check mode, warns when
   * another run holds it). Throws, after closing `conn`, when the lock cannot be taken.
   */
  async guard(conn: Connection, settings: ConnectionSettings): Promise<Connection> {
    // The local transport usually stands for several temp roots of the controller: locked only when asked.
    if (conn.transport === "local" && settings.lockFile === undefined) return conn;
    const lockFile = settings.lockFile ?? DEFAULT_LOCK_FILE;
    const become = settings.become ?? this.o.playsBecome;
    if (this.o.check) {
      const holder = await peekLock(conn, { lockFile, become });
      if (holder) {
        this.warn(
          conn.name,
          `a changing run holds the host lock (${describeHolder(holder)}): this check run's prediction may be stale`,
        );
      }
      return conn;
    }
    const machine =
      conn.transport === "local" ? "" : `${settings.address ?? settings.host}:${settings.port ?? ""}`;
    const key = `${conn.transport}:${machine}:${lockFile}`;
    // Set before any await: hosts that connect at once and share a lock wait for one take.
    const entry = this.acquire(this.entries.get(key), conn, lockFile, become);
    this.entries.set(key, entry);
    try {
      await entry;
      return conn;
    } catch (err) {
      // Refused (for this host or for another name of the same machine): the host fails.
      await conn.close().catch(() => undefined);
      throw err;
    }
  }

  /** The lock already held for this machine, or a new take (again, when an earlier holder died). */
  private async acquire(
    previous: Promise<Entry> | undefined,
    conn: Connection,
    lockFile: string,
    become: boolean,
  ): Promise<Entry> {
    const before = await previous;
    if (before?.held.alive && !this.closed.has(before.conn)) return before;
    return { conn, held: await this.take(conn, lockFile, become, before !== undefined) };
  }

  /**
   * Before the engine closes a host's connection to open a new one (a reboot): a holder on an SSH
   * connection dies with it, so the next guard takes the lock again. A local holder is a child
   * process of tickless and lives on.
   */
  connectionClosing(conn: Connection): void {
    if (conn.transport === "ssh") this.closed.add(conn);
  }

  /** Releases every lock still held (end of the run). */
  async releaseAll(): Promise<void> {
    await Promise.all(
      [...this.entries.values()].map(async (entry) => {
        const taken = await entry.catch(() => undefined);
        await taken?.held.release(taken.conn).catch(() => undefined);
      }),
    );
  }

  private async take(
    conn: Connection,
    lockFile: string,
    become: boolean,
    retake: boolean,
  ): Promise<HeldLock> {
    const base = { lockFile, info: this.info, become };
    // Again after a reconnect, the old holder may take a moment to see its session end.
    let r = await takeLock(conn, { ...base, waitSeconds: retake ? RETAKE_WAIT_SECONDS : 0 });
    if (!r.taken && this.o.waitSeconds > 0) {
      this.warn(
        conn.name,
        `waiting up to ${this.o.waitSeconds} s for the host lock held by ${describeHolder(r.holder)}`,
      );
      r = await takeLock(conn, { ...base, waitSeconds: this.o.waitSeconds });
    }
    if (!r.taken) {
      const waited = this.o.waitSeconds > 0 ? ` (waited ${this.o.waitSeconds} s)` : "";
      throw new TicklessError(
        "TASK",
        `${conn.name} is locked by ${describeHolder(r.holder)}${waited}: another run may be changing it`,
        { hint: `wait for it to end, or pass --wait-lock SECONDS; the lock is ${lockFile}` },
      );
    }
    // After a reboot or a lost connection (reconnect), the holder died with the old connection:
    // the lock is taken again under the same run id, and the info it left is our own.
    if (retake) this.warn(conn.name, `took the host lock again after reconnecting (run ${this.info.run_id})`);
    else if (r.previous && r.previous.run_id !== this.info.run_id) {
      this.warn(
        conn.name,
        `took over the host lock left by ${describeHolder(r.previous)}: that run ended without releasing it`,
      );
    }
    return r.held;
  }

  private warn(host: string, message: string): void {
    this.o.emit({ type: "warning", host, message });
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "unknown";
  }
}
