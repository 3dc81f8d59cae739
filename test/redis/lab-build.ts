/**
 * Builds (or finds in the build cache) the jemalloc and Redis releases for a set of playbook vars
 * on a throwaway lab host: jemalloc.yml then redis.yml (direct supervisor, a free port), and
 * keeps the release trees in the cache (build-cache.ts). The VM test uses it: compiling under
 * TCG would take hours, and the lab hosts run the same Debian bookworm as the guest.
 */
import { join } from "node:path";
import { openSsh } from "../../src/connection/ssh.js";
import { type Run, run } from "../e2e/helpers.js";
import { startLab } from "../lab/lab.js";
import { labSettings } from "../lab/use-lab.js";
import { freePort } from "../ssh-e2e/helpers.js";
import {
  buildDefaults,
  type CachedBuild,
  fetchSources,
  releaseNames,
  saveBuild,
  seedBuild,
} from "./build-cache.js";

const PLAYBOOKS = join(import.meta.dirname, "..", "..", "playbooks");

export interface LabBuild {
  cache: string;
  names: { jemalloc: string; redis: string };
  jemalloc: CachedBuild;
  redis: CachedBuild;
  /** Which playbooks compiled (false: the cache had the tree). */
  built: { jemalloc: boolean; redis: boolean };
  /** The vars the playbooks ran with (sources included), to run them elsewhere with the same ones. */
  vars: Record<string, unknown>;
}

/** The source tarballs as playbook vars. */
export function sourceVars(cache: string): Record<string, string> {
  return {
    jemalloc_src: join(cache, "jemalloc_5.3.0.orig.tar.bz2"),
    redis_src: join(cache, "redis_7.0.15.orig.tar.gz"),
  };
}

export async function buildOnLab(overrides: Record<string, unknown>): Promise<LabBuild> {
  const cache = await fetchSources();
  const names = releaseNames({ ...(await buildDefaults()), ...(overrides as Record<string, string>) });
  const jemalloc = { parent: "/opt/jemalloc-hft", name: names.jemalloc };
  const redis = { parent: "/opt/redis-hft/releases", name: names.redis };
  const vars = { ...sourceVars(cache), ...overrides };
  const lab = await startLab(1, { names: ["redis-build"] });
  const conn = await openSsh(labSettings(lab, lab.hosts[0]));
  const failures = (r: Run) =>
    r.results.filter((e) => e.status === "failed").map((e) => `${e.task}: ${JSON.stringify(e.result?.msg)}`);
  try {
    const seeded = [await seedBuild(conn, cache, jemalloc), await seedBuild(conn, cache, redis)];
    if (seeded[0] && seeded[1])
      return { cache, names, jemalloc, redis, built: { jemalloc: false, redis: false }, vars };
    const built = { jemalloc: false, redis: false };
    const port = await freePort();
    const labVars = {
      ...vars,
      redis_port: port,
      redis_supervisor: "direct",
      redis_logfile: "/var/lib/redis-hft/redis.log",
    };
    for (const [pb, key, task] of [
      ["jemalloc.yml", "jemalloc", "configure, build and install"],
      ["redis.yml", "redis", "build with the tuned"],
    ] as const) {
      const r = await run({
        playbook: join(PLAYBOOKS, pb),
        inventory: lab.inventoryFile,
        extraVars: labVars,
      });
      if (r.summary.exitCode !== 0)
        throw new Error(`${pb} on the build host failed: ${failures(r).join("; ")}`);
      built[key] = r.results.some((e) => e.task.startsWith(task) && e.status === "changed");
      if (built[key]) await saveBuild(conn, cache, key === "jemalloc" ? jemalloc : redis);
    }
    await conn.run(`redis-cli -p ${port} SHUTDOWN NOSAVE`);
    return { cache, names, jemalloc, redis, built, vars };
  } finally {
    await conn.close();
    await lab.stop();
  }
}
