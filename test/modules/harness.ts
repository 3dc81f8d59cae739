/** Test harness for state modules: a real ModuleContext and the engine's own probe → plan → apply → re-plan loop. */
import { lstat, readFile } from "node:fs/promises";
import type { Connection, FileRead } from "../../src/connection/types.js";
import { withoutEffects } from "../../src/engine/check-plan.js";
import { converge as engineConverge } from "../../src/engine/converge.js";
import type { ManagedFile } from "../../src/modules/files/managed-file.js";
import type { Change, ModuleContext, ModuleResult, StateModule } from "../../src/modules/types.js";
import { removeDir, tempDir } from "../support/fs.js";
import { testContext } from "../support/module-context.js";

export { testContext };

export interface Converged {
  changes: Change[];
  result: ModuleResult | undefined;
  /** The plan after apply: must be [] for a converging module. */
  replan: Change[];
  report?: ModuleResult;
}

/** The engine's convergence loop (engine/converge.ts) on normalized args: probe, plan, apply when needed, probe and plan again. */
export async function converge<A>(
  module: StateModule<A, any>,
  rawArgs: A,
  conn: Connection,
  ctx: ModuleContext = testContext(),
): Promise<Converged> {
  const args = module.normalize ? module.normalize(rawArgs) : rawArgs;
  const c = await engineConverge(module, args, ctx, async () => conn, false);
  // as a task's result carries them (engine/check-plan.ts)
  const changes = withoutEffects(c.changes);
  return { changes, result: c.applied, replan: withoutEffects(c.remaining), report: c.report };
}

/** Probe and plan only, as check mode does. */
export async function checkPlan<A>(
  module: StateModule<A, any>,
  rawArgs: A,
  conn: Connection,
  ctx: ModuleContext = testContext(),
): Promise<Change[]> {
  const args = module.normalize ? module.normalize(rawArgs) : rawArgs;
  // as a task's result carries them: the overlay's effects left out (engine/check-plan.ts)
  return withoutEffects((await engineConverge(module, args, ctx, async () => conn, true)).changes);
}

/** A probed regular file for pure plan tests; `content` undefined = absent. */
export function fileState(path: string, content?: string, over: Partial<FileRead> = {}): ManagedFile {
  if (content === undefined) return { path, file: { path, exists: false } };
  const file: FileRead = {
    path,
    exists: true,
    type: "file",
    mode: "0644",
    uid: 0,
    gid: 0,
    owner: "root",
    group: "root",
    size: Buffer.byteLength(content),
    content: Buffer.from(content),
    ...over,
  };
  return { path, file };
}

/** A temp directory for one test; removed by the returned cleanup. */
export async function scratchDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await tempDir("tickless-mod-");
  return { dir, cleanup: () => removeDir(dir) };
}

/** Bytes and mtime of a path, to prove that check mode touched nothing. */
export async function snapshot(path: string): Promise<string> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return "absent";
  const content = st.isFile() ? await readFile(path, "base64") : "";
  return `${st.mode}:${st.mtimeMs}:${content}`;
}
