/**
 * The paths a recursive removal must never target: the root, the top-level system directories
 * and the current directory. Checked by the file module when it plans (so check mode refuses
 * too, located at the task) and by every connection's `remove` (so no caller escapes it).
 */
import { posix } from "node:path";
import { TicklessError } from "../errors.js";

const SYSTEM_DIRECTORIES = new Set([
  "/",
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/home",
  "/media",
  "/mnt",
  "/opt",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/srv",
  "/sys",
  "/tmp",
  "/usr",
  "/var",
]);

/** `path` in its normalised form: `//`, `/etc/`, `/./usr` and `/usr/../etc` name `/`, `/etc`, `/usr`, `/etc`. */
function normalised(path: string): string {
  const p = posix.normalize(path);
  return p.length > 1 ? p.replace(/\/+$/, "") : p;
}

/** True for `/`, a top-level system directory (`/etc`, `/lib64`, …) or `.`/`..`, in any spelling. */
export function isProtectedPath(path: string): boolean {
  const p = normalised(path);
  return SYSTEM_DIRECTORIES.has(p) || /^\/lib[^/]*$/.test(p) || p === "." || p === ".." || path === "";
}

/** Throws a MODULE_ARGS error when a recursive removal would take `path` (see isProtectedPath). */
export function refuseRecursiveRemoval(path: string): void {
  if (!isProtectedPath(path)) return;
  const p = normalised(path);
  throw new TicklessError(
    "MODULE_ARGS",
    `refusing to remove ${path || "an empty path"}${p === path ? "" : ` (${p})`} recursively: it is ${
      p.startsWith("/")
        ? p === "/"
          ? "the root directory"
          : "a top-level system directory"
        : "the current directory"
    }`,
    {
      hint: "a path built from a variable that is empty or unset ends up here: check the variables in the path",
    },
  );
}
