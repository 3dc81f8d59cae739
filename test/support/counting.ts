/** A connection that records the commands it is asked to run: each is one round trip to the host. */
import type { Connection, RunOptions } from "../../src/connection/types.js";

export function countingRuns(conn: Connection): { conn: Connection; commands: string[]; runs: () => number } {
  const commands: string[] = [];
  const wrapped = Object.create(conn) as Connection;
  wrapped.run = (command: string, options?: RunOptions) => {
    commands.push(command);
    return conn.run(command, options);
  };
  return { conn: wrapped, commands, runs: () => commands.length };
}
