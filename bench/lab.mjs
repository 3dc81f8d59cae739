// The test lab (test/lab/lab.ts, TypeScript) for plain-JS benchmarks: compiles lab.ts and what it
// imports (irq-fixture.ts, test/support/net.ts) with tsc into .tmp/bench-lab/ (git-ignored) when
// they changed, then imports it.
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCES = ["test/lab/lab.ts", "test/lab/irq-fixture.ts", "test/support/net.ts"];
const OUT = `${ROOT}.tmp/bench-lab`;

async function mtime(file) {
  return (await stat(file).catch(() => undefined))?.mtimeMs ?? 0;
}

/** Compiles the lab unless the build is newer than its sources; returns the lab module. */
export async function importLab() {
  const built = await mtime(`${OUT}/lab/lab.js`);
  const newest = Math.max(...(await Promise.all(SOURCES.map((s) => mtime(`${ROOT}${s}`)))));
  if (built < newest) {
    const tsc = `${ROOT}node_modules/typescript/bin/tsc`;
    const flags = ["--outDir", OUT, "--rootDir", `${ROOT}test`, "--module", "NodeNext"];
    flags.push("--moduleResolution", "NodeNext", "--target", "ES2022", "--types", "node", "--skipLibCheck");
    await promisify(execFile)(process.execPath, [tsc, ...flags, ...SOURCES.map((s) => `${ROOT}${s}`)], {
      cwd: ROOT,
    });
  }
  return import(`${OUT}/lab/lab.js`);
}
