/**
 * source_archive: puts a source tarball on the host with a verified sha256 — downloaded on the host
 * from `url` (curl or wget), or uploaded from the controller (`src`) for hosts without internet.
 * The checksum is checked before the file takes its final name, so nothing unpacks an unverified
 * archive; a file already there with the right checksum is left alone.
 */
import { createHash } from "node:crypto";
import { posix } from "node:path";
import { quote } from "shell-quote";
import { TicklessError } from "../../errors.js";
import { defineModule } from "../types.js";
import { mutuallyExclusive, requireOneOf } from "../util/args.js";

export interface SourceArchiveArgs {
  dest: string;
  sha256: string;
  url?: string;
  src?: string;
}

export interface SourceArchiveState {
  /** sha256 of the file at dest, undefined when absent. */
  sha256?: string;
}

export function sha256Hex(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Downloads to a temp file beside dest, checks the sum, then renames; a bad download is removed. */
export function downloadScript(url: string, dest: string, sha256: string): string {
  const d = quote([dest]);
  const u = quote([url]);
  return [
    "set -e",
    `mkdir -p ${quote([posix.dirname(dest)])}`,
    `t=$(mktemp ${quote([`${dest}.XXXXXX`])})`,
    `trap 'rm -f "$t"' EXIT`,
    `if command -v curl >/dev/null; then curl -fsSL -o "$t" ${u}; else wget -q -O "$t" ${u}; fi`,
    `got=$(sha256sum < "$t" | cut -d' ' -f1)`,
    `if [ "$got" != ${quote([sha256])} ]; then echo "sha256 mismatch: got $got" >&2; exit 3; fi`,
    `chmod 0644 "$t"`,
    `mv -f "$t" ${d}`,
    "trap - EXIT",
  ].join("\n");
}

export const sourceArchiveModule = defineModule<SourceArchiveArgs, SourceArchiveState>({
  name: "source_archive",
  kind: "state",
  description: "Put a source tarball on the host (URL or controller file) with its sha256 verified.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["dest", "sha256"],
    properties: {
      dest: { type: "string", pattern: "^/" },
      sha256: { type: "string", pattern: "^[0-9a-fA-F]{64}$" },
      url: { type: "string", pattern: "^(https?|ftp|file)://" },
      src: { type: "string", minLength: 1 },
    },
    allOf: [requireOneOf(["url", "src"]), ...mutuallyExclusive(["url", "src"])],
  },
  normalize: (args) => ({ ...args, sha256: args.sha256.toLowerCase() }),
  async probe(host, args) {
    const p = quote([args.dest]);
    const r = await host.run(`if [ -f ${p} ]; then sha256sum < ${p} | cut -d' ' -f1; fi`);
    if (r.rc !== 0) throw new TicklessError("TASK", `cannot read ${args.dest}: ${r.stderr.trim()}`);
    return { sha256: r.stdout.trim() || undefined };
  },
  plan(args, state) {
    if (state.sha256 === args.sha256) return [];
    const how = args.src !== undefined ? `upload ${args.src}` : `download ${args.url}`;
    return [
      {
        target: args.dest,
        summary: state.sha256 === undefined ? how : `${how} (sha256 differs)`,
        before: state.sha256 === undefined ? "" : `sha256 ${state.sha256}\n`,
        after: `sha256 ${args.sha256}\n`,
      },
    ];
  },
  async apply(host, args, _changes, _state, ctx) {
    if (args.src !== undefined) {
      const data = await ctx.readControllerFile(args.src);
      const got = sha256Hex(data);
      if (got !== args.sha256) {
        throw new TicklessError("TASK", `${args.src} has sha256 ${got}, expected ${args.sha256}`, {
          hint: "the controller's tarball is not the one the playbook pins: fetch it again or fix the sha256",
        });
      }
      const mk = await host.run(`mkdir -p ${quote([posix.dirname(args.dest)])}`);
      if (mk.rc !== 0)
        throw new TicklessError("TASK", `cannot create ${posix.dirname(args.dest)}: ${mk.stderr.trim()}`);
      await host.writeFile(args.dest, data, { mode: "0644" });
      return { sha256: got };
    }
    const r = await host.run(downloadScript(args.url ?? "", args.dest, args.sha256));
    if (r.rc !== 0) {
      throw new TicklessError("TASK", `cannot fetch ${args.url}: ${r.stderr.trim() || `rc ${r.rc}`}`, {
        hint: "hosts without internet: give `src:` (a tarball on the controller) instead of `url:`",
      });
    }
    return { sha256: args.sha256 };
  },
  report: (args, state) => ({ dest: args.dest, sha256: state.sha256 }),
});
