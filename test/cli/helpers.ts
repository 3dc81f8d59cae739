/** Runs the CLI in-process against temp dirs. */
import { join } from "node:path";
import { runCli } from "../../src/cli/program.js";
import { sink } from "../reporters/recorded.js";
import { testdir as fixtureTree, removeDir } from "../support/fs.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(
  argv: string[],
  options: { isTTY?: boolean; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<CliRun> {
  const stdout = sink();
  const stderr = sink();
  const code = await runCli(argv, {
    stdout,
    stderr,
    isTTY: options.isTTY ?? false,
    env: options.env ?? {},
    signal: options.signal,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** A temp dir with the given files; `dir.cleanup()` removes it. */
export async function testdir(
  files: Record<string, string>,
): Promise<{ path: string; file(name: string): string; cleanup(): Promise<void> }> {
  const path = await fixtureTree(files, "tickless-cli-");
  return { path, file: (name) => join(path, name), cleanup: () => removeDir(path) };
}
