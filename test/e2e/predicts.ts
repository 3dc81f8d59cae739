/**
 * The check-mode equivalence property, for any playbook on any hosts: the check run changes nothing
 * on the hosts (their snapshot before and after is the same), it fails nowhere, and it reports what
 * the real run then does: the same (task, host) pairs change, and each planned file's last "after"
 * is the bytes the real run leaves there. What it cannot know is named by the caller, each with its
 * reason: measurements (a check result that is a guess at the host after the change), tasks check
 * mode reports unpredictable, planned paths whose bytes are the run's own (an id, a time).
 */
import { expect } from "vitest";
import { byStatus, plannedContent, predictedChanges, type Run } from "./helpers.js";

export interface PredictSpec {
  /** The check run and the real run of the same play. */
  check(): Promise<Run>;
  real(): Promise<Run>;
  /** Everything the play may touch on every host, as comparable data. */
  snapshot(): Promise<unknown>;
  hosts: string[];
  /** The bytes now at a path on a host (undefined: absent). */
  read(host: string, path: string): Promise<string | undefined>;
  /** Task → why: its check result is a guess at a measurement, not a planned state (left out of the pairs). */
  measured?: Record<string, string>;
  /** Task → why: check mode reports it unpredictable on every host (never a guessed ok). */
  unpredictable?: Record<string, string>;
  /** A planned path's bytes as compared: the run's own id and time left out (default: as they are). */
  normalize?(path: string, text: string): unknown;
  /** Path → why the real run cannot leave the planned bytes there (its result says so: the caller checks). */
  notWritten?: Record<string, string>;
}

/** Runs the check run then the real run and asserts the property; returns both runs. */
export async function expectCheckPredicts(spec: PredictSpec): Promise<{ check: Run; real: Run }> {
  const before = await spec.snapshot();
  const check = await spec.check();
  expect(failures(check)).toEqual([]);
  expect(check.summary.exitCode).toBe(0);
  expect(await spec.snapshot()).toEqual(before);
  const unpredictable = Object.keys(spec.unpredictable ?? {});
  expect(byStatus(check, "unpredictable").sort()).toEqual(pairs(spec.hosts, unpredictable));
  for (const r of check.results.filter((x) => x.status === "unpredictable"))
    expect(String(r.result.msg)).toMatch(/^unpredictable in check mode: depends on /);

  const real = await spec.real();
  expect(failures(real)).toEqual([]);
  const measured = new Set(Object.keys(spec.measured ?? {}));
  const unknown = new Set([...measured, ...unpredictable]);
  const known = (pair: string) => !unknown.has(pair.slice(pair.indexOf(":") + 1));
  expect(predictedChanges(check).filter(known)).toEqual(byStatus(real, "changed").filter(known).sort());
  // each measurement is one the check run does report (a named exception that never happens is stale)
  for (const task of measured)
    expect(
      check.results
        .filter((r) => r.task === task)
        .map((r) => r.host)
        .sort(),
    ).toEqual([...spec.hosts].sort());

  const normalize = (path: string, text: string | undefined) =>
    text === undefined || !spec.normalize ? text : spec.normalize(path, text);
  for (const host of spec.hosts) {
    for (const [path, after] of plannedContent(check, host)) {
      if (spec.notWritten?.[path]) continue;
      expect(normalize(path, await spec.read(host, path)), `${host} ${path}`).toEqual(normalize(path, after));
    }
  }
  return { check, real };
}

function failures(r: Run): string[] {
  return r.results.filter((x) => x.status === "failed").map((x) => `${x.host} ${x.task}: ${x.result.msg}`);
}

function pairs(hosts: string[], tasks: string[]): string[] {
  return hosts.flatMap((h) => tasks.map((t) => `${h}:${t}`)).sort();
}
