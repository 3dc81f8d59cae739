#!/usr/bin/env node
/**
 * npm run compat -- --ansible-src DIR [--targets a,b,…] [--keep-going] [--markdown] [--json] [--timeout SECONDS]
 *
 * Ansible's own integration tests as a yardstick: each named target of DIR/test/integration/targets
 * runs under /usr/bin/ansible-playbook and under tickless (the built dist/), each in its own copy
 * of the target and its own throwaway sandbox (sandbox.mjs), and the two runs are compared task by
 * task (compare.mjs). Per target: does tickless load it unchanged (else its first refusal's
 * file:line), how many tasks ran, how many had the same outcome, and each difference with its
 * file:line. Only targets that keep to their output dir belong here: never ones that install
 * packages or change users, services or sysctl (the sandbox hides files, not the kernel's state).
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ansibleEntries, compareRuns, ticklessEntries } from "./compare.mjs";
import { patchRefusals } from "./refusals.mjs";
import { runSandboxed } from "./sandbox.mjs";
import { inventoryYaml, targetRuns, wrapperPlay } from "./target.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const TICKLESS = path.join(ROOT, "dist", "cli", "main.js");
const ANSIBLE = "/usr/bin/ansible-playbook";
const CALLBACKS = path.join(ROOT, "test", "referee", "callback_plugins");

/** The targets that only touch their output dir (and the sandbox's /tmp). */
export const DEFAULT_TARGETS = [
  "lineinfile",
  "blockinfile",
  "stat",
  "file",
  "copy",
  "command_shell",
  "template",
  "assert",
  "set_fact",
  "register",
  "changed_when",
  "failed_when",
  "ignore_errors",
  "include_import",
  "tags",
  "check_mode",
  "wait_for",
];

/**
 * ansible-test gives a target its output directory as OUTPUT_DIR too, and targets read it
 * (`lookup('env', 'OUTPUT_DIR')`): unset, their files would go to "/", outside the sandbox.
 */
function ansibleEnv(outputDir) {
  return {
    ...process.env,
    OUTPUT_DIR: outputDir,
    ANSIBLE_STDOUT_CALLBACK: "parity_json",
    ANSIBLE_CALLBACK_PLUGINS: CALLBACKS,
    ANSIBLE_NOCOLOR: "1",
    ANSIBLE_LOCALHOST_WARNING: "0",
    ANSIBLE_HOST_KEY_CHECKING: "0",
    ANSIBLE_RETRY_FILES_ENABLED: "0",
    ANSIBLE_DEPRECATION_WARNINGS: "0",
  };
}

/** A fresh copy of the target for one side of one run: { dir, targetDir, outputDir, inventory }. */
async function prepare(base, targetSrc, side, kind, keepGoing) {
  const dir = path.join(base, side);
  const targetDir = path.join(dir, "target");
  const outputDir = path.join(dir, "out");
  await mkdir(outputDir, { recursive: true });
  await cp(targetSrc, targetDir, { recursive: true, verbatimSymlinks: true });
  const inventory = path.join(dir, "inventory.yml");
  await writeFile(inventory, inventoryYaml());
  if (kind === "role") await writeFile(path.join(targetDir, "compat-play.yml"), wrapperPlay(targetDir, outputDir, keepGoing));
  return { dir, targetDir, outputDir, inventory };
}

function firstLine(text, re) {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => re.test(l)) ?? ""
  );
}

/** One run of one playbook under both tools → the comparison, or why there is none. */
async function runBoth(base, targetSrc, kind, run, { timeoutMs, keepGoing }) {
  const a = await prepare(base, targetSrc, "ansible", kind, keepGoing);
  const t = await prepare(base, targetSrc, "tickless", kind, keepGoing);
  const theirs = await runSandboxed([ANSIBLE, "-i", a.inventory, run.playbook, ...run.args], {
    workDir: a.dir,
    keep: [ROOT],
    cwd: a.targetDir,
    env: ansibleEnv(a.outputDir),
    timeoutMs,
  });
  const patched = await patchRefusals(TICKLESS, run.playbook, t.inventory, t.targetDir);
  const ours = await runSandboxed(
    [process.execPath, TICKLESS, "run", run.playbook, "-i", t.inventory, "--json", ...run.args],
    { workDir: t.dir, keep: [ROOT], cwd: t.targetDir, env: { ...process.env, OUTPUT_DIR: t.outputDir }, timeoutMs },
  );
  const start = theirs.stdout.search(/^\{/m);
  if (start < 0) {
    return { label: run.label, error: `ansible-playbook gave no report (exit ${theirs.rc}): ${firstLine(theirs.stderr, /ERROR|error/) || theirs.stderr.trim().slice(0, 200)}` };
  }
  const report = JSON.parse(theirs.stdout.slice(start));
  const where = (e) => `${path.relative(t.targetDir, e.file)}:${e.line}:${e.col}`;
  const refusals = patched.refusals.map((e) => ({ where: where(e), message: e.message.replace(/ \(hint: .*\)$/, "") }));
  const refusal = refusals.length ? `${refusals[0].where}: ${refusals[0].message}` : undefined;
  const unparsed =
    ours.rc === 4 && !/"type":"play_start"/.test(ours.stdout) ? firstLine(`${ours.stdout}\n${ours.stderr}`, /\S/) : undefined;
  // Each side has its own copy: its directory is written the same way in both sides' messages.
  const sameDir = (entries, dir) =>
    entries.map((e) =>
      typeof e.result?.msg === "string" ? { ...e, result: { ...e.result, msg: e.result.msg.split(dir).join("<dir>") } } : e,
    );
  const cmp = compareRuns(
    sameDir(ticklessEntries(ours.stdout, t.targetDir), t.dir),
    sameDir(ansibleEntries(report, a.targetDir), a.dir),
  );
  return { label: run.label, rc: { ansible: theirs.rc, tickless: ours.rc }, refusal, refusals, unparsed, timedOut: theirs.timedOut || ours.timedOut, ...cmp };
}

/** Every run of one target, in a temp dir removed afterwards. */
export async function compareTarget(ansibleSrc, name, { timeoutMs = 600_000, keepGoing = false } = {}) {
  const targetSrc = path.join(ansibleSrc, "test", "integration", "targets", name);
  if (!existsSync(targetSrc)) return { name, runs: [], left: [`no target ${name}`] };
  const { kind, runs, left } = targetRuns(targetSrc);
  const results = [];
  for (const [i, run] of runs.entries()) {
    const base = await mkdtemp(path.join(os.tmpdir(), `tickless-compat-${name}-${i}-`));
    try {
      results.push(await runBoth(base, targetSrc, kind, run, { timeoutMs, keepGoing }));
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }
  return { name, kind, runs: results, left };
}

/** The totals of a target over its runs. */
export function totals(target) {
  const ok = target.runs.filter((r) => !r.error);
  const sum = (k) => ok.reduce((n, r) => n + r[k], 0);
  const refusal = target.runs.find((r) => r.refusal)?.refusal;
  return { tasks: sum("tasks"), ran: sum("ran"), same: sum("same"), sameMsg: sum("sameMsg"), refusal };
}

function printTarget(target, out) {
  const tot = totals(target);
  out.write(`\n${target.name}\n`);
  out.write(`  parses unchanged: ${tot.refusal ? `no — ${tot.refusal}` : target.runs.length ? "yes" : "n/a"}\n`);
  out.write(`  tasks: ${tot.tasks} (tickless ran ${tot.ran}), same outcome: ${tot.same}/${tot.tasks}, same msg too: ${tot.sameMsg}\n`);
  for (const r of target.runs) {
    if (target.runs.length > 1 || r.error) out.write(`  run ${r.label}${r.rc ? ` (exit ansible ${r.rc.ansible}, tickless ${r.rc.tickless})` : ""}\n`);
    if (r.error) out.write(`    ${r.error}\n`);
    if (r.unparsed) out.write(`    tickless still refuses it: ${r.unparsed}\n`);
    for (const f of r.refusals ?? []) out.write(`    refused ${f.where}: ${f.message}\n`);
    for (const d of r.differences ?? [])
      out.write(`    ${d.where} ${JSON.stringify(d.name)}: ansible ${d.ansible}, tickless ${d.tickless}${d.detail ? ` — ${d.detail}` : ""}\n`);
  }
  for (const l of target.left) out.write(`  not run: ${l}\n`);
}

function markdownRow(target) {
  const tot = totals(target);
  const parses = tot.refusal ? `no: ${tot.refusal.replace(/\|/g, "\\|")}` : "yes";
  return `| ${target.name} | ${parses} | ${tot.tasks} | ${tot.same}/${tot.tasks} |`;
}

async function main() {
  const { values } = parseArgs({
    options: {
      "ansible-src": { type: "string" },
      targets: { type: "string" },
      markdown: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      timeout: { type: "string", default: "600" },
      "keep-going": { type: "boolean", default: false },
    },
  });
  if (!values["ansible-src"]) {
    process.stderr.write("usage: npm run compat -- --ansible-src DIR [--targets a,b,…] [--keep-going] [--markdown] [--json] [--timeout SECONDS]\n");
    return 5;
  }
  if (!existsSync(TICKLESS)) {
    process.stderr.write(`${TICKLESS} is missing (hint: npm run build)\n`);
    return 5;
  }
  const names = values.targets ? values.targets.split(",").filter(Boolean) : DEFAULT_TARGETS;
  const all = [];
  for (const name of names) {
    const target = await compareTarget(path.resolve(values["ansible-src"]), name, {
      timeoutMs: Number(values.timeout) * 1000,
      keepGoing: values["keep-going"],
    });
    all.push(target);
    if (!values.json) printTarget(target, process.stdout);
  }
  if (values.json) process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
  if (values.markdown) {
    process.stdout.write("\n| target | parses unchanged | tasks | same outcome |\n|---|---|---|---|\n");
    for (const t of all) process.stdout.write(`${markdownRow(t)}\n`);
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => {
    process.exitCode = code;
  });
}
