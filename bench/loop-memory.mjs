// Memory of a long loop: a playbook looping a cheap action (debug, one line per item) over ITEMS
// items (a command's stdout_lines) on localhost, registered, run by the CLI in a child process with
// the plain reporter writing to a pipe. Peak RSS of the child (getrusage, printed by a preload
// module when the child exits) against the 300 MB target. Run after `npm run build`:
//   node bench/loop-memory.mjs [items=200000]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ITEMS = Number(process.argv[2] ?? 200_000);
const TARGET_MB = 300;
// TICKLESS_DIST_DIR: another build's dist directory (e.g. to compare two builds)
const distDir = process.env.TICKLESS_DIST_DIR ?? fileURLToPath(new URL("../dist", import.meta.url));
const cli = join(distDir, "cli", "main.js");
const inventory = fileURLToPath(new URL("../inventory/localhost.yml", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tickless-loop-memory-"));
const playbook = join(dir, "loop.yml");
const preload = join(dir, "peak-rss.mjs");
writeFileSync(
  playbook,
  `- hosts: localhost
  gather_facts: false
  tasks:
    - name: the items
      command: seq 0 ${ITEMS - 1}
      register: numbers
    - name: many items
      debug:
        msg: "item {{ item }}"
      loop: "{{ numbers.stdout_lines }}"
      register: looped
    - name: every item registered
      assert:
        that:
          - looped.results | length == ${ITEMS}
          - looped.results[${ITEMS - 1}].item == "${ITEMS - 1}"
`,
);
// the child's own peak (kB on Linux), written to stderr as the process ends
writeFileSync(
  preload,
  `process.on("exit", () => process.stderr.write(\`\\nPEAK_RSS_KB=\${process.resourceUsage().maxRSS}\\n\`));\n`,
);
const start = performance.now();
const args = ["--import", preload, cli, "run", playbook, "-i", inventory];
const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
// the reporter's lines are counted, not kept: this process's memory is not the one measured
let stdoutBytes = 0;
let lastOut = "";
let stderr = "";
child.stdout.on("data", (b) => {
  stdoutBytes += b.length;
  lastOut = (lastOut + b.toString()).slice(-2000);
});
child.stderr.on("data", (b) => {
  stderr = (stderr + b.toString()).slice(-4000);
});
const status = await new Promise((resolve) => child.on("close", resolve));
const seconds = (performance.now() - start) / 1000;
rmSync(dir, { recursive: true, force: true });
const peak = /PEAK_RSS_KB=(\d+)/.exec(stderr);
if (status !== 0 || !peak) {
  console.error(`run failed (exit ${status}):\n${stderr}\n${lastOut}`);
  process.exit(2);
}
const peakMb = Number(peak[1]) / 1024;
console.log(`${ITEMS} loop items (debug, registered), plain reporter: ${seconds.toFixed(1)} s`);
console.log(
  `peak RSS ${peakMb.toFixed(0)} MB; ratio to the ${TARGET_MB} MB target ${(peakMb / TARGET_MB).toFixed(2)}`,
);
console.log(`reporter output ${(stdoutBytes / 1e6).toFixed(1)} MB`);
process.exit(peakMb <= TARGET_MB ? 0 : 1);
