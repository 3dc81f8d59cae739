/** Builds a small file tree in a fresh temp directory: `{ "group_vars/all.yml": "x: 1" }`. */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export async function testdir(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "tickless-inventory-"));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

/** Joins lines with newlines, so YAML in tests keeps visible line numbers. */
export function lines(...text: string[]): string {
  return `${text.join("\n")}\n`;
}
