/** Temp directories and inline fixture trees (`{ "group_vars/all.yml": "x: 1" }`), for every test. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** A fresh directory under the system temp dir. */
export async function tempDir(prefix = "tickless-test-"): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Writes `{ relative path: content }` under dir, making the directories on the way. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

/** A fresh temp directory holding `files`; returns its path. */
export async function testdir(files: Record<string, string>, prefix?: string): Promise<string> {
  const dir = await tempDir(prefix);
  await writeTree(dir, files);
  return dir;
}

/** Joins lines with newlines, so YAML in tests keeps visible line numbers. */
export function lines(...text: string[]): string {
  return `${text.join("\n")}\n`;
}
