/**
 * build_id: a short stable id (sha256 of the parts, 12 hex digits) naming a build by its inputs —
 * source checksum and flags — so that a prefix like /opt/jemalloc-hft/5.3.0-<id> changes exactly
 * when an input does. Runs on the controller; changes nothing, also in check mode.
 */
import { createHash } from "node:crypto";
import { defineModule } from "../types.js";

export interface BuildIdArgs {
  parts: Array<string | number | boolean>;
  length?: number;
}

/** sha256 over the parts joined by NUL, cut to `length` hex digits. */
export function buildId(parts: ReadonlyArray<string | number | boolean>, length = 12): string {
  return createHash("sha256").update(parts.map(String).join("\0")).digest("hex").slice(0, length);
}

export const buildIdModule = defineModule<BuildIdArgs>({
  name: "build_id",
  kind: "action",
  description: "Hash a build's inputs (source sha256, flags) into a short id for its install prefix.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["parts"],
    properties: {
      parts: { type: "array", minItems: 1, items: { type: ["string", "number", "boolean"] } },
      length: { type: "integer", minimum: 6, maximum: 64 },
    },
  },
  run: async (args) => ({ changed: false, id: buildId(args.parts, args.length) }),
});
