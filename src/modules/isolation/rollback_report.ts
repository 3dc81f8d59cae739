/**
 * `rollback_report`: the last task of rollback.yml. Each part of the rollback (a block whose rescue
 * records why it failed) hands in its outcome; this prints one line a part and fails the host when
 * any part could not be restored, so that a rollback is whole or says exactly what it is not.
 * An outcome starts with one of: `restored`, `already clean`, `reboot pending`, `kept`,
 * `could not restore` (then `: the task: the reason`). Reads nothing on the host.
 */
import { TicklessError } from "../../errors.js";
import type { ModuleResult } from "../types.js";
import { defineModule } from "../types.js";

export const OUTCOMES = ["restored", "already clean", "reboot pending", "kept", "could not restore"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface RollbackPart {
  part: string;
  outcome: string;
}

export interface RollbackReportArgs {
  parts: RollbackPart[];
}

export interface PartLine {
  part: string;
  status: Outcome;
  detail: string;
}

/** The outcome's leading word and what follows it ("could not restore: x: y" → detail "x: y"). */
export function classify(p: RollbackPart): PartLine {
  const text = String(p.outcome ?? "").trim();
  const status = OUTCOMES.find((o) => text === o || text.startsWith(`${o}:`) || text.startsWith(`${o} (`));
  if (!status) {
    throw new TicklessError(
      "MODULE_ARGS",
      `rollback_report: part ${JSON.stringify(p.part)} has the outcome ${JSON.stringify(text)}`,
      { hint: `an outcome starts with one of: ${OUTCOMES.join(", ")}` },
    );
  }
  const detail = text
    .slice(status.length)
    .trim()
    .replace(/^:\s*/, "")
    .replace(/^\((.*)\)$/s, "$1")
    .trim();
  return { part: p.part, status, detail };
}

/** Pure: the report's lines and whether the host failed. */
export function rollbackReport(args: RollbackReportArgs): ModuleResult {
  const lines = args.parts.map(classify);
  const failed = lines.filter((l) => l.status === "could not restore");
  const width = Math.max(...lines.map((l) => l.part.length));
  const text = lines
    .map((l) => `${l.part.padEnd(width)}  ${l.status}${l.detail ? `: ${l.detail}` : ""}`)
    .join("\n");
  const parts = Object.fromEntries(lines.map((l) => [l.part, l.status]));
  if (failed.length === 0) return { parts, report: lines, msg: `rollback complete\n${text}` };
  return {
    parts,
    report: lines,
    failed: true,
    not_restored: failed.map((l) => l.part),
    msg: `rollback incomplete: ${failed.map((l) => l.part).join(", ")} could not be restored (the rest was)\n${text}`,
  };
}

export const rollbackReportModule = defineModule<RollbackReportArgs>({
  name: "rollback_report",
  kind: "action",
  description:
    "Print rollback.yml's per-part outcomes (restored, already clean, could not restore: why) and fail when a part was not restored.",
  args: {
    type: "object",
    properties: {
      parts: {
        type: "array",
        minItems: 1,
        items: {
          type: "object",
          properties: { part: { type: "string", minLength: 1 }, outcome: { type: "string" } },
          required: ["part", "outcome"],
          additionalProperties: false,
        },
      },
    },
    required: ["parts"],
    additionalProperties: false,
  },
  async run(args): Promise<ModuleResult> {
    return rollbackReport(args);
  },
});
