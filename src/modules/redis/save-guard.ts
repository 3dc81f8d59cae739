/**
 * The data guard around a Redis restart, as shell for the host: before, a Redis that holds keys
 * must have a completed save of everything written (RDB: a BGSAVE that finished with status ok and
 * no change since; AOF: no rewrite pending, the last write ok, no fsync pending). A save that
 * cannot complete (no data directory, a failed BGSAVE or AOF write, no completed save within the
 * timeout) refuses the restart, naming why, unless `without_save` allows it. After, PING and a
 * DBSIZE equal to the one before.
 */

/** Exit code of the guard when the save cannot complete and the restart is refused. */
export const SAVE_REFUSED = 15;

/**
 * A shell test: Redis answers on `cli`. Not PING: after a failed BGSAVE (stop-writes-on-bgsave-error)
 * Redis refuses PING with MISCONF while it still holds the keys a restart would lose; DBSIZE, a
 * read, is answered with a number then too.
 */
export function answersScript(cli: string): string {
  return `case "$(${cli} DBSIZE 2>/dev/null)" in '' | *[!0-9]*) false ;; *) true ;; esac`;
}

export interface SaveGuardOptions {
  /** The redis-cli command line, already quoted (`redis-cli -h 127.0.0.1 -p 6379`). */
  cli: string;
  /** How long a save may take before the restart is refused. */
  timeoutS: number;
  /** Restart even when the save cannot complete (the reason is printed as `save_skipped=`). */
  withoutSave: boolean;
}

/**
 * Sets `before` (DBSIZE; "" when Redis does not answer) and `saved` (rdb, aof, empty, skipped);
 * prints `dbsize_before=`, `saved=` and, when allowed to go on without one, `save_skipped=<reason>`.
 * Refused: the reason on stderr, exit SAVE_REFUSED.
 */
export function saveGuardScript(o: SaveGuardOptions): string {
  const cli = o.cli;
  return [
    `rfield() { printf '%s\\n' "$inf" | tr -d '\\r' | sed -n "s/^$1:\\(.*\\)$/\\1/p"; }`,
    "before=; saved=; reason=",
    `if ${answersScript(cli)}; then`,
    `  before=$(${cli} DBSIZE)`,
    `  if [ "$before" -eq 0 ]; then saved=empty; else`,
    `    rdir=$(${cli} CONFIG GET dir | sed -n 2p); rfile=$(${cli} CONFIG GET dbfilename | sed -n 2p)`,
    // Redis answers CONFIG GET dir with getcwd(): empty when the directory was removed under it
    `    [ -n "$rdir" ] && [ -d "$rdir" ] || reason="the data directory \${rdir:-(removed while Redis runs)} does not exist"`,
    `    started=; end=$(( $(date +%s) + ${o.timeoutS} ))`,
    '    while [ -z "$reason" ]; do',
    `      inf=$(${cli} INFO persistence)`,
    '      if [ "$(rfield aof_enabled)" = 1 ]; then',
    '        if [ "$(rfield aof_last_write_status)" != ok ]; then reason="the last AOF write in $rdir failed (aof_last_write_status:$(rfield aof_last_write_status))"',
    '        elif [ "$(rfield aof_rewrite_in_progress)$(rfield aof_rewrite_scheduled)" = 00 ] && [ "$(rfield aof_pending_bio_fsync)" = 0 ]; then saved=aof; break; fi',
    '      elif [ "$(rfield rdb_bgsave_in_progress)" = 0 ]; then',
    "        st=$(rfield rdb_last_bgsave_status); ch=$(rfield rdb_changes_since_last_save)",
    '        if [ "$st" = ok ] && [ "$ch" = 0 ]; then saved=rdb; break',
    '        elif [ "$st" != ok ] && [ -n "$started" ]; then reason="BGSAVE to $rdir/$rfile failed (rdb_last_bgsave_status:$st; the Redis log says why)"',
    `        else r=$(${cli} BGSAVE 2>&1); started=1`,
    '          case "$r" in "Background saving started"|*"already in progress"*) ;; *) reason="BGSAVE refused: $r" ;; esac',
    "        fi",
    "      fi",
    `      if [ -z "$reason" ] && [ "$(date +%s)" -ge "$end" ]; then reason="no save completed after the last write within ${o.timeoutS} s (rdb_changes_since_last_save:$(rfield rdb_changes_since_last_save))"; fi`,
    '      [ -n "$reason" ] || sleep 0.01',
    "    done",
    '    if [ -n "$reason" ]; then',
    o.withoutSave
      ? '      saved=skipped; echo "save_skipped=$reason"'
      : `      echo "refusing to restart Redis holding $before key(s): $reason; redis_restart_without_save: true restarts it anyway" >&2; exit ${SAVE_REFUSED}`,
    "    fi",
    "  fi",
    "fi",
    'echo "dbsize_before=$before"',
    'echo "saved=$saved"',
  ].join("\n");
}

/** Waits up to `timeoutS` for PONG (exit 12 with redis-cli's last answer), then prints `dbsize_after=`. */
export function afterRestartScript(cli: string, timeoutS: number): string {
  return [
    // the last answer (or error) of redis-cli, with its exit code, goes into the timeout message
    `i=0; until last=$(${cli} PING 2>&1); rc=$?; [ $rc = 0 ] && [ "$last" = PONG ]; do i=$((i+1)); [ $i -gt ${timeoutS * 100} ] && { echo "redis did not answer PING within ${timeoutS} s (last answer: exit $rc: $(printf %s "$last" | tr '\\n' ' ' | cut -c1-300))" >&2; exit 12; }; sleep 0.01; done`,
    `echo "dbsize_after=$(${cli} DBSIZE)"`,
  ].join("\n");
}

/** The data problem of a restart: a DBSIZE that differs from the one before, both numbers named. */
export function dbsizeProblem(before: string | undefined, after: string | undefined): string | undefined {
  if (before === undefined || before === "" || before === after) return undefined;
  return `DBSIZE ${before} before the restart, ${after ?? "?"} after`;
}
