/**
 * release_link: points a `current` symbolic link at a release directory atomically
 * (`ln -sfn` to a temp name, then `mv -T` over the link: readers never see it missing), and first
 * records where it pointed in `previous_file`, so that a rollback knows where to go back to
 * even from another controller.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import { TicklessError } from "../../errors.js";
import { defineModule } from "../types.js";

export interface ReleaseLinkArgs {
  path: string;
  target: string;
  previous_file?: string;
}

export interface ReleaseLinkState {
  /** Where the link points now; undefined when absent; null when the path is not a link. */
  current: string | undefined | null;
  targetExists: boolean;
}

/** The atomic switch (and the record of the old target), as one shell script. */
export function switchScript(args: ReleaseLinkArgs, old: string | undefined): string {
  const link = quote([args.path]);
  const tmp = quote([`${args.path}.tickless-new`]);
  const lines = ["set -e", `test -d ${quote([args.target])}`];
  lines.push(`ln -sfn ${quote([args.target])} ${tmp}`, `mv -T ${tmp} ${link}`);
  if (old !== undefined && args.previous_file !== undefined) {
    const dir = quote([posix.dirname(args.previous_file)]);
    const file = quote([args.previous_file]);
    const ftmp = quote([`${args.previous_file}.tickless-new`]);
    lines.splice(
      2,
      0,
      `mkdir -p ${dir}`,
      `printf '%s\\n' ${quote([old])} > ${ftmp}`,
      `mv -f ${ftmp} ${file}`,
    );
  }
  return lines.join("\n");
}

export const releaseLinkModule = defineModule<ReleaseLinkArgs, ReleaseLinkState>({
  name: "release_link",
  kind: "state",
  description: "Switch a `current` symlink to a release directory atomically, recording the previous target.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["path", "target"],
    properties: {
      path: { type: "string", pattern: "^/" },
      target: { type: "string", pattern: "^/" },
      previous_file: { type: "string", pattern: "^/" },
    },
  },
  async probe(host, args) {
    const [link, target] = await Promise.all([
      host.stat(args.path),
      host.stat(args.target, { follow: true }),
    ]);
    const current = !link.exists ? undefined : link.type === "link" ? (link.linkTarget ?? "") : null;
    return { current, targetExists: target.exists && target.type === "directory" };
  },
  plan(args, state) {
    if (state.current === args.target) return [];
    return [
      {
        target: args.path,
        summary: state.current ? `switch ${state.current} → ${args.target}` : `link → ${args.target}`,
        before: state.current ? `${state.current}\n` : "",
        after: `${args.target}\n`,
      },
    ];
  },
  async apply(host, args, _changes, state) {
    if (state.current === null) {
      throw new TicklessError("TASK", `${args.path} exists and is not a symbolic link`, {
        hint: "move it away: release_link only replaces links",
      });
    }
    if (!state.targetExists) {
      throw new TicklessError("TASK", `release ${args.target} does not exist`, {
        hint: "build or install the release before switching to it",
      });
    }
    const r = await host.run(switchScript(args, state.current));
    if (r.rc !== 0)
      throw new TicklessError("TASK", `cannot switch ${args.path}: ${r.stderr.trim() || `rc ${r.rc}`}`);
    return { previous: state.current ?? null };
  },
  report: (args, state) => ({ path: args.path, target: state.current ?? null }),
});
