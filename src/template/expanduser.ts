/**
 * Ansible's `expanduser` filter, Python's os.path.expanduser on the controller: a leading `~` is
 * the controller's $HOME (its passwd entry without one), `~name` that account's home from
 * /etc/passwd; a name without an entry, or no leading `~`, leaves the path as it is.
 */
import { readFileSync } from "node:fs";
import os from "node:os";

export function expandUser(path: string): string {
  if (!path.startsWith("~")) return path;
  const slash = path.indexOf("/", 1);
  const end = slash === -1 ? path.length : slash;
  const name = path.slice(1, end);
  const home = name === "" ? (process.env.HOME ?? os.userInfo().homedir) : passwdHome(name);
  if (home === undefined) return path;
  return `${home.replace(/\/+$/, "")}${path.slice(end)}` || "/";
}

/** The home directory /etc/passwd gives an account, if it names it. */
function passwdHome(name: string): string | undefined {
  let text: string;
  try {
    text = readFileSync("/etc/passwd", "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields.length >= 7) return fields[5];
  }
  return undefined;
}
