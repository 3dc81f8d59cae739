import { TicklessError } from "../../errors.js";
import type { ModuleContext } from "../types.js";

/** An error about the host's files, with the task's location (the file:line on the host is in the message). */
export function atTask<T>(ctx: ModuleContext, action: () => T): T {
  const relocate = (err: unknown): never => {
    if (!(err instanceof TicklessError) || err.location || !ctx.location) throw err;
    throw new TicklessError(err.code, err.message, {
      location: ctx.location,
      hint: err.hint,
      cause: err.cause,
    });
  };
  try {
    const result = action();
    return (result instanceof Promise ? result.catch(relocate) : result) as T;
  } catch (err) {
    return relocate(err);
  }
}
