// How long the latency gate's three planted cases take (no change, a regression, an improvement;
// test/redis/ab-lab.ts) at validate-latency.yml's default sizes — 50 interleaved runs a side, then
// the sequential protocol's 100 baseline and 50 candidate runs, and the stock server against the
// custom build when the build cache has it — against the 24 runs a side the
// default suite uses, with each case's verdict. Runs the two test files one after the other
// (test/redis/ab-latency-default-sizes.test.ts with TICKLESS_LATENCY_DEFAULT_SIZES=1, then
// test/redis/ab-latency.test.ts) on a lab host with real Redis servers, reads the line each case
// prints (its gate line, U, p, its wall time and the load average) and writes
// bench/results/planted-cases.json.
// Run:  node bench/planted-cases.mjs
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CASE =
  /^(planted (?:no change|regression|improvement)|sequential, planted regression|stock vs the custom build): (.*) \(U ([\d.]+), p ([\d.e+-]+); ([\d.]+) s, load ([\d. ]+)\)$/;

/** Runs one test file; returns its cases and whether it passed. */
function runFile(file, env) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(ROOT, "node_modules/vitest/vitest.mjs"), "run", file], {
    cwd: ROOT,
    env: { ...process.env, ...env, NO_COLOR: "1", FORCE_COLOR: "0" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const cases = [];
  for (const line of r.stdout.split("\n")) {
    const m = CASE.exec(line.trim());
    if (!m) continue;
    const verdict = /, (PASS|NO CHANGE|FAIL)\b/.exec(m[2])?.[1];
    cases.push({ name: m[1], verdict, u: Number(m[3]), p: Number(m[4]), seconds: Number(m[5]), load: m[6] });
  }
  return { file, passed: r.status === 0, seconds: (Date.now() - started) / 1000, cases };
}

const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const before = load();
const defaults = runFile("test/redis/ab-latency-default-sizes.test.ts", {
  TICKLESS_LATENCY_DEFAULT_SIZES: "1",
});
const suite = runFile("test/redis/ab-latency.test.ts", {});
const result = { load_before: before, load_after: load(), default_sizes: defaults, default_suite: suite };
for (const [label, f] of [
  ["default sizes (50 a side; sequential 100 + 50)", defaults],
  ["default suite (24 a side)", suite],
]) {
  console.log(`${label}: ${f.passed ? "passed" : "FAILED"}, ${f.seconds.toFixed(0)} s for the file`);
  for (const c of f.cases)
    console.log(
      `  ${c.name}: ${c.verdict}, U ${c.u}, p ${c.p.toExponential(2)}, ${c.seconds.toFixed(1)} s (load ${c.load})`,
    );
}
const sum = (f) => f.cases.filter((c) => c.name.startsWith("planted")).reduce((s, c) => s + c.seconds, 0);
console.log(
  `the three interleaved cases: ${sum(defaults).toFixed(0)} s at 50 a side, ${sum(suite).toFixed(0)} s at 24 a side (ratio ${(sum(defaults) / sum(suite)).toFixed(2)})`,
);
const outDir = join(ROOT, "bench", "results");
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "planted-cases.json"), `${JSON.stringify(result, null, 2)}\n`);
if (!defaults.passed || !suite.passed) process.exitCode = 1;
