// Fake roots inside the lab hosts: each host has a private /tmp, reached from outside through
// /proc/<host sshd pid>/root (the host's own mount namespace), so resets and checks are untimed
// and never go through either tool's SSH connections.
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { makeRoot } from "./fixtures/make-roots.mjs";

/** Where the playbooks look on every host (`-e fake_root_base=…`); the root is `<base>/<inventory_hostname>`. */
export const FAKE_ROOT_BASE = "/tmp/bench";

/** The host's fake root as seen from the bench process. */
export function rootOf(host) {
  return join(`/proc/${host.pid}/root`, FAKE_ROOT_BASE, host.name);
}

/** Recreates a pristine root (stock Debian before tuning) on every host. */
export function resetRoots(hosts) {
  for (const h of hosts) makeRoot(join(`/proc/${h.pid}/root`, FAKE_ROOT_BASE), h.name);
}

/** Every entry under a root: `{ relative path: "type mode [link target | sha256 of content]" }`. */
export async function describeTree(dir) {
  const out = {};
  const walk = async (d, rel) => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const s = await lstat(p);
      const mode = (s.mode & 0o7777).toString(8).padStart(4, "0");
      if (s.isDirectory()) {
        out[r] = `dir ${mode}`;
        await walk(p, r);
      } else if (s.isSymbolicLink()) out[r] = `link ${await readlink(p)}`;
      else
        out[r] = `file ${mode} ${createHash("sha256")
          .update(await readFile(p))
          .digest("hex")}`;
    }
  };
  await walk(dir, "");
  return out;
}

/** One hash over the trees of all hosts: equal before and after means nothing was modified. */
export async function treeSignature(hosts) {
  const hash = createHash("sha256");
  for (const h of hosts) hash.update(JSON.stringify(await describeTree(rootOf(h))));
  return hash.digest("hex");
}
