/**
 * The source tarballs (test/fixtures-sources/fetch.sh, cached outside the clone) and a cache of
 * built release trees keyed by the playbooks' build ids, so that only a cold cache (or
 * TICKLESS_FULL_BUILD=1) pays for the builds. Lab hosts see the real /var/cache.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { quote } from "shell-quote";
import { parse } from "yaml";
import type { Connection } from "../../src/connection/types.js";
import { buildId } from "../../src/modules/redis/build_id.js";

const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");

export const FETCH_SCRIPT = join(ROOT, "test", "fixtures-sources", "fetch.sh");

/** Runs fetch.sh (idempotent, about 1 s when the mirror answers, instant when cached); returns the cache dir. */
export async function fetchSources(): Promise<string> {
  const { stdout } = await execFileAsync(FETCH_SCRIPT, [], { timeout: 300_000 });
  return stdout.trim().split("\n").pop() ?? "";
}

/** The playbooks' default vars (playbooks/vars/jemalloc-redis.yml). */
export async function buildDefaults(): Promise<Record<string, string>> {
  return parse(await readFile(join(ROOT, "playbooks", "vars", "jemalloc-redis.yml"), "utf8"));
}

/** Release directory names the playbooks will compute for the default flags. */
export function releaseNames(v: Record<string, string>) {
  const jemalloc = `${v.jemalloc_version}-${buildId([v.jemalloc_version, v.jemalloc_sha256, v.jemalloc_configure_options, v.jemalloc_malloc_conf])}`;
  const parts = [
    v.redis_version,
    v.redis_sha256,
    v.redis_optimization,
    v.redis_ldflags,
    v.jemalloc_configure_options,
    v.jemalloc_malloc_conf,
  ];
  // the standalone build's id also names the jemalloc prefix it links (redis.yml)
  if (v.redis_jemalloc === "standalone") parts.push("standalone", `${v.jemalloc_root}/${jemalloc}`);
  const redis = `${v.redis_version}-${buildId(parts)}`;
  return { jemalloc, redis };
}

export interface CachedBuild {
  /** Directory the release lives in on the host (e.g. /opt/redis-hft/releases). */
  parent: string;
  name: string;
}

function archive(cache: string, b: CachedBuild): string {
  return join(cache, "builds", `${b.parent.replaceAll("/", "_")}_${b.name}.tar`);
}

/** Unpacks a cached build on the host; false when the cache has none (or a full build is forced). */
export async function seedBuild(conn: Connection, cache: string, b: CachedBuild): Promise<boolean> {
  if (process.env.TICKLESS_FULL_BUILD === "1") return false;
  const file = archive(cache, b);
  const r = await conn.run(
    `test -s ${quote([file])} || exit 7; mkdir -p ${quote([b.parent])} && tar -xf ${quote([file])} -C ${quote([b.parent])}`,
  );
  if (r.rc === 7) return false;
  if (r.rc !== 0) throw new Error(`seeding ${b.name} failed: ${r.stderr}`);
  return true;
}

/** Keeps a release built on the host in the cache (atomically). */
export async function saveBuild(conn: Connection, cache: string, b: CachedBuild): Promise<void> {
  const file = archive(cache, b);
  const r = await conn.run(
    `mkdir -p ${quote([join(cache, "builds")])} && tar -cf ${quote([`${file}.tmp`])} -C ${quote([b.parent])} ${quote([b.name])} && mv -f ${quote([`${file}.tmp`, file])}`,
  );
  if (r.rc !== 0) throw new Error(`caching ${b.name} failed: ${r.stderr}`);
}
