/**
 * Check mode's record of what a state task planned: each change's effect goes into the host's
 * overlay (connection/planned.ts), which later tasks on the host read through.
 */
import { plannedStateOf } from "../connection/planned.js";
import type { Connection, Privilege } from "../connection/types.js";
import type { Change } from "../modules/types.js";

/** Records the changes' effects on the host's overlay (when the connection has one); returns the changes without them. */
export async function recordPlan(
  conn: Connection,
  changes: Change[],
  privilege: Privilege,
): Promise<Change[]> {
  const planned = plannedStateOf(conn);
  for (const change of changes) if (change.effect && planned) await planned.record(change.effect, privilege);
  return withoutEffects(changes);
}

/** The changes as the result and the events carry them: the effect (bytes again, for the overlay) left out. */
export function withoutEffects(changes: Change[]): Change[] {
  return changes.map(({ effect: _effect, ...change }) => change);
}
