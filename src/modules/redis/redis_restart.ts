/**
 * redis_restart: restarts the systemd unit of a Redis without losing its data — a completed save
 * first (save-guard.ts; refused with the reason when none can complete, unless
 * `restart_without_save`), then `systemctl restart`, PING, and DBSIZE equal to the one before.
 * For restarts that change how Redis runs (a drop-in), not which binary (that is redis_server).
 */
import { quote } from "shell-quote";
import { TicklessError } from "../../errors.js";
import { defineModule, type ModuleResult } from "../types.js";
import { cliCheck, cliLine, NO_CLI, parseKeyValues } from "./redis_server.js";
import { afterRestartScript, dbsizeProblem, SAVE_REFUSED, saveGuardScript } from "./save-guard.js";

export interface RedisRestartArgs {
  service: string;
  port?: number;
  cli?: string;
  save_timeout_s?: number;
  start_timeout_s?: number;
  restart_without_save?: boolean;
}

export function redisRestartScript(args: RedisRestartArgs): string {
  const cli = cliLine(args);
  return [
    "set -u",
    cliCheck(args),
    saveGuardScript({
      cli,
      timeoutS: args.save_timeout_s ?? 60,
      withoutSave: args.restart_without_save ?? false,
    }),
    `systemctl restart -- ${quote([args.service])} || exit 11`,
    afterRestartScript(cli, args.start_timeout_s ?? 20),
  ].join("\n");
}

/** The module's result from the script's key=value lines; failed when DBSIZE changed. */
export function restartResult(kv: Record<string, string>): ModuleResult {
  const result: ModuleResult = {
    dbsize_before: kv.dbsize_before ? Number(kv.dbsize_before) : null,
    dbsize_after: Number(kv.dbsize_after),
    saved: kv.saved || "not running",
    ...(kv.save_skipped ? { save_skipped: kv.save_skipped } : {}),
  };
  const problem = dbsizeProblem(kv.dbsize_before, kv.dbsize_after);
  return problem ? { ...result, failed: true, msg: problem } : result;
}

export const redisRestartModule = defineModule<RedisRestartArgs, Record<string, never>>({
  name: "redis_restart",
  kind: "command",
  description: "Restart a Redis unit after a completed save; PING and an unchanged DBSIZE after.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["service"],
    properties: {
      service: { type: "string", minLength: 1 },
      port: { type: "integer", minimum: 1, maximum: 65535 },
      cli: { type: "string", minLength: 1 },
      save_timeout_s: { type: "integer", minimum: 1, maximum: 3600 },
      start_timeout_s: { type: "integer", minimum: 1, maximum: 600 },
      restart_without_save: { type: "boolean" },
    },
  },
  probe: async () => ({}),
  plan: (args) => [{ target: args.service, summary: `restart ${args.service} (after a completed save)` }],
  async apply(host, args) {
    const r = await host.run(redisRestartScript(args));
    if (r.rc === SAVE_REFUSED || r.rc === NO_CLI) {
      throw new TicklessError("TASK", `${args.service} not restarted: ${r.stderr.trim()}`, {
        hint:
          r.rc === NO_CLI
            ? "install redis-tools on the host, or name the client with `cli:`"
            : "fix the save (the data directory, its space and permissions; the Redis log), then run again",
      });
    }
    if (r.rc !== 0) {
      throw new TicklessError(
        "TASK",
        `restarting ${args.service} failed: ${r.stderr.trim() || `rc ${r.rc}`}`,
      );
    }
    return restartResult(parseKeyValues(r.stdout));
  },
});
