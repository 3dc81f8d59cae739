/** Runs the CLI in-process against temp dirs. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runCli } from "../../src/cli/program.js";
import { sink } from "../reporters/recorded.js";

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
  const path = await mkdtemp(join(tmpdir(), "tickless-cli-"));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(path, name)), { recursive: true });
    await writeFile(join(path, name), content);
  }
  return {
    path,
    file: (name) => join(path, name),
    cleanup: () => rm(path, { recursive: true, force: true }),
  };
}
