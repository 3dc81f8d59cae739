/**
 * tickless's own package directory (where package.json, templates/ and files/ are): the nearest
 * directory above this code that holds a package.json. Found by walking up, so it is the same from
 * src/, from tsc's dist/<dir>/ and from the bundle's dist/ and dist/chunks/.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  root = dir;
  return root;
}

/** Where this code runs from, under the package: "src" (the TypeScript sources) or "dist" (the build). */
export function runningFrom(): string {
  return path.relative(packageRoot(), fileURLToPath(import.meta.url)).split(path.sep)[0] ?? "";
}
