/**
 * kernel_cmdline's apply for the GRUB defaults, in an order that never leaves a host half-changed:
 * 1. the originals of the operator's files it will edit go to the state file (JSON, 0600) first;
 * 2. the new bytes are written beside each file (`<file>.tickless-new`), and ONE host command
 *    has the host's sh check them (`sh -n`, then a subshell sources every default file as
 *    grub-mkconfig does, with the new ones in place, and compares GRUB_CMDLINE_LINUX and
 *    GRUB_CMDLINE_LINUX_DEFAULT with what tickless computed) before renaming them into place;
 * 3. grub.cfg is regenerated; when that fails, or the new grub.cfg does not carry what was asked,
 *    the old bytes are put back (and grub.cfg regenerated from them) and the task fails saying so.
 */
import { posix } from "node:path";
import type { HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleResult } from "../types.js";
import { ensureDir, removeDirIfCreated } from "../util/created-dir.js";
import { checkStateVersion } from "../util/state-version.js";
import { evaluate, LINUX, LINUX_DEFAULT, parseSources, withContents } from "./grub-defaults.js";
import type { KernelCmdlineState } from "./kernel_cmdline.js";

/** The state file: each file tickless edited other than its own snippet, before and after. */
export interface SaveData {
  version: 1;
  files: Record<string, { original: string | null; written: string }>;
  /** grubby: each boot entry's original arguments, by kernel path. */
  grubby?: Record<string, string>;
}

export function emptySave(): SaveData {
  return { version: 1, files: {} };
}

/** The state file's text, checked: its version, and that it is a kernel_cmdline save. */
export function readSave(path: string, content: string): SaveData {
  let data: Partial<SaveData> | undefined;
  try {
    data = JSON.parse(content) as Partial<SaveData>;
  } catch {}
  if (data !== undefined) checkStateVersion(data, path);
  if (data && typeof data.files === "object" && data.files !== null)
    return { version: 1, files: data.files, ...(data.grubby ? { grubby: data.grubby } : {}) };
  throw new TicklessError("TASK", `${path} is not a tickless kernel_cmdline save (version 1)`, {
    hint: "it holds the original GRUB defaults tickless replaced; restore them by hand before removing it",
  });
}

function saveText(data: SaveData): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

/**
 * The save change before `files` are written: originals kept, `written` updated; undefined when no
 * operator file changes and `base` (grubby: the save with the entries' originals) adds nothing.
 */
export function savePlan(
  state: KernelCmdlineState,
  files: ReadonlyMap<string, string>,
  base: SaveData = state.save.data,
): Change | undefined {
  const own = state.method === "snippet" ? state.file.path : undefined;
  const edited = [...files.keys()].filter((p) => p !== own);
  if (edited.length === 0 && base === state.save.data) return undefined;
  const data: SaveData = { ...base, files: { ...base.files } };
  for (const path of edited) {
    const existed = state.modes[path] !== undefined;
    const original = data.files[path]?.original ?? (existed ? contentOf(state, path) : null);
    data.files[path] = { original, written: files.get(path) as string };
  }
  const fresh = edited.filter((p) => !state.save.data.files[p]);
  return {
    target: state.save.path,
    summary: fresh.length
      ? `save the original of ${fresh.join(", ")} (state: restored puts it back)`
      : edited.length
        ? `note what tickless writes to ${edited.join(", ")}`
        : "save each boot entry's original arguments (state: restored puts them back)",
    ...(state.save.exists ? { before: saveText(state.save.data) } : {}),
    after: saveText(data),
  };
}

function contentOf(state: KernelCmdlineState, path: string): string {
  return state.sources.find((s) => s.path === path)?.content ?? "";
}

/** Pure: the saved originals back (each file only while it still holds what tickless wrote), the snippet removed, the save dropped. */
export function restorePlan(state: KernelCmdlineState): { files: Map<string, string>; save?: Change } {
  const files = new Map<string, string>();
  for (const [path, entry] of Object.entries(state.save.data.files)) {
    const current = contentOf(state, path);
    if (current === (entry.original ?? "")) continue;
    if (current !== entry.written) {
      throw new TicklessError(
        "TASK",
        `${path} changed since tickless edited it: its original is not put back over someone else's edit`,
        {
          hint: `the original is in ${state.save.path} (files["${path}"].original); merge it by hand, then remove that entry`,
        },
      );
    }
    files.set(path, entry.original ?? "");
  }
  if (state.method === "snippet" && state.file.exists) files.set(state.file.path, "");
  const save = state.save.exists
    ? {
        target: state.save.path,
        summary: "drop the save (originals given back)",
        before: saveText(state.save.data),
      }
    : undefined;
  return { files, ...(save ? { save } : {}) };
}

/** A POSIX sh single-quoted word. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const TEMP = ".tickless-new";

/** What the restore on failure needs: each touched path and its bytes before (undefined = did not exist). */
type Undo = { path: string; before: string | undefined; mode: string }[];

async function putBack(host: HostWriter, undo: Undo): Promise<void> {
  for (const u of undo) {
    if (u.before !== undefined) await host.writeFile(u.path, u.before, { mode: u.mode });
    else {
      await host.remove(u.path);
      await removeDirIfCreated(host, posix.dirname(u.path));
    }
  }
}

/**
 * Writes the file changes through the host's sh check (step 2 above). Throws, with nothing
 * replaced, when sh finds a syntax error or reads other values than tickless computed.
 */
async function replaceFiles(host: HostWriter, state: KernelCmdlineState, changes: Change[]): Promise<void> {
  const files = new Map(changes.map((c) => [c.target, c.after ?? ""]));
  const writes = changes.filter((c) => c.after !== "");
  for (const c of writes) {
    if (c.target === state.file.path && state.method === "snippet")
      await ensureDir(host, posix.dirname(c.target));
    await host.writeFile(`${c.target}${TEMP}`, c.after ?? "", { mode: state.modes[c.target] ?? "0644" });
  }
  const after = withContents(state.sources, files).filter(
    (s) => files.get(s.path) !== "" && (state.modes[s.path] !== undefined || files.has(s.path)),
  );
  const v = evaluate(parseSources(after));
  const expected = `${v[LINUX]}\n${v[LINUX_DEFAULT]}`.replace(/\n+$/, "");
  const temps = writes.map((c) => sq(`${c.target}${TEMP}`)).join(" ");
  const sourced = after.map((s) => `. ${sq(files.has(s.path) ? `${s.path}${TEMP}` : s.path)};`).join(" ");
  const script = [
    `for t in ${temps}; do sh -n "$t" || { rm -f ${temps}; exit 2; }; done`,
    `v=$(unset ${LINUX} ${LINUX_DEFAULT}; { ${sourced} printf '%s\\n%s' "$${LINUX}" "$${LINUX_DEFAULT}" >&3; } 3>&1 >/dev/null 2>&1)`,
    `if [ "$v" != ${sq(expected)} ]; then printf '%s' "$v"; rm -f ${temps}; exit 3; fi`,
    ...writes.map((c) => `mv -f ${sq(`${c.target}${TEMP}`)} ${sq(c.target)}`),
    ...changes.filter((c) => c.after === "").map((c) => `rm -f ${sq(c.target)}`),
  ].join("\n");
  const res = await host.run(script);
  if (res.rc === 0) {
    if (files.get(state.file.path) === "" && state.method === "snippet")
      await removeDirIfCreated(host, posix.dirname(state.file.path));
    return;
  }
  const names = changes.map((c) => c.target).join(", ");
  if (res.rc === 3) {
    const [linux, dflt] = res.stdout.split("\n");
    throw new TicklessError(
      "TASK",
      `the host's sh reads the new GRUB defaults differently than tickless computed (${LINUX}="${linux ?? ""}" ${LINUX_DEFAULT}="${dflt ?? ""}", expected ${JSON.stringify(expected)}): ${names} left as they were`,
      {
        hint: "the defaults use a construct tickless misreads; edit the line by hand or use method: snippet",
      },
    );
  }
  throw new TicklessError(
    "TASK",
    `the new GRUB defaults fail the host's check (rc ${res.rc}): ${res.stderr.trim()}: ${names} left as they were`,
  );
}

async function regenerate(
  host: HostWriter,
  state: KernelCmdlineState,
): Promise<{ rc: number; stderr: string }> {
  const res = await host.run(state.mkconfig);
  return { rc: res.rc, stderr: res.stderr.trim().split("\n").slice(-10).join("\n") };
}

/** restored: the save goes last, once everything it held is back. */
async function dropSave(host: HostWriter, state: KernelCmdlineState, change: Change | undefined) {
  if (!change || change.after !== undefined) return;
  await host.remove(state.save.path);
  await removeDirIfCreated(host, posix.dirname(state.save.path));
}

/**
 * Applies the plan's save, file and grub.cfg changes. `cfgProblem` says what the regenerated
 * grub.cfg lacks (undefined = fine).
 */
export async function applyDefaults(
  host: HostWriter,
  state: KernelCmdlineState,
  changes: Change[],
  cfgProblem: (cfg: string) => string | undefined,
): Promise<ModuleResult> {
  const saveChange = changes.find((c) => c.target === state.save.path);
  const fileChanges = changes.filter((c) => c.target !== state.save.path && c.target !== state.grubCfg.path);
  const regeneration = changes.find((c) => c.target === state.grubCfg.path);
  const regenerating = regeneration !== undefined;
  const undo: Undo = fileChanges.map((c) => ({
    path: c.target,
    before: state.modes[c.target] !== undefined ? contentOf(state, c.target) : undefined,
    mode: state.modes[c.target] ?? "0644",
  }));
  if (saveChange?.after !== undefined) {
    if (!state.save.exists) await ensureDir(host, posix.dirname(state.save.path));
    await host.writeFile(state.save.path, saveChange.after, { mode: "0600" });
    undo.push({ path: state.save.path, before: saveChange.before, mode: "0600" });
  }
  try {
    if (fileChanges.length) await replaceFiles(host, state, fileChanges);
  } catch (err) {
    await putBack(
      host,
      undo.filter((u) => u.path === state.save.path),
    );
    throw err;
  }
  const names = fileChanges.map((c) => c.target).join(", ");
  if (regenerating) {
    const res = await regenerate(host, state);
    if (res.rc !== 0) {
      await putBack(host, undo);
      const notFound = res.rc === 127;
      throw new TicklessError(
        "TASK",
        `${notFound ? `cannot regenerate ${state.grubCfg.path} on ${host.name}: \`${state.mkconfig}\` not found (rc 127)` : `\`${state.mkconfig}\` failed on ${host.name} (rc ${res.rc}): ${res.stderr}`}${names ? `; put back ${names}` : ""}`,
        notFound
          ? {
              hint: "install GRUB (grub2-common / grub2-tools) or set mkconfig_command; namespace and container hosts have no boot loader",
            }
          : {},
      );
    }
    const cfg = await host.readFile(state.grubCfg.path);
    const problem = cfgProblem(cfg.content?.toString("utf8") ?? "");
    if (problem) {
      await putBack(host, undo);
      const again = names ? await regenerate(host, state) : undefined;
      const regen = again
        ? again.rc === 0
          ? ` and regenerated ${state.grubCfg.path} from them`
          : `; regenerating ${state.grubCfg.path} from them failed too (rc ${again.rc}): ${again.stderr}`
        : "";
      return {
        failed: true,
        msg: `the regenerated ${state.grubCfg.path} does not carry ${problem} exactly once on every Linux entry${names ? `: put back ${names}${regen}` : ""}`,
        mkconfig_stderr: res.stderr,
      };
    }
    await dropSave(host, state, saveChange);
    // the bytes predicted before the run (the diff shown) against the ones the generator wrote
    const predicted =
      regeneration.after === undefined
        ? {}
        : { cfg_as_predicted: regeneration.after === cfg.content?.toString("utf8") };
    return { regenerated: true, mkconfig_stderr: res.stderr, ...predicted };
  }
  await dropSave(host, state, saveChange);
  return { regenerated: false };
}
