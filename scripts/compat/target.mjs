/**
 * What to run for one integration target of Ansible's source tree. A role target
 * (tasks/main.yml) runs through a wrapper play in a copy of the target's directory: the play sits
 * at the role's root, so its files/ and templates/ are found as a role would find them; defaults/
 * and vars/ become vars_files; `output_dir`, `remote_tmp_dir` and `role_path` are set as ansible-test
 * and setup_remote_tmp_dir would set them. A runme.sh target runs each plain `ansible-playbook FILE`
 * line of its script (tags, extra vars, check and diff kept; lines that pipe, capture or set
 * ANSIBLE_* settings are left out and listed).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { split } from "shlex";

/** The inventory both tools read: ansible-test's `testhost`, local, in `testgroup`. */
export function inventoryYaml() {
  return [
    "all:",
    "  vars:",
    "    ansible_connection: local",
    "    ansible_python_interpreter: /usr/bin/python3",
    "  hosts:",
    "    testhost: {}",
    "  children:",
    "    testgroup:",
    "      hosts:",
    "        testhost: {}",
    "",
  ].join("\n");
}

/**
 * The play that stands in for ansible-test's role scaffolding (JSON is YAML). With keepGoing the
 * import carries `ignore_errors: true`, so that both tools run every task past a first difference
 * (a failure then counts as failed-and-ignored on both sides, and a rescue no longer runs).
 */
export function wrapperPlay(targetDir, outputDir, keepGoing = false) {
  const varsFiles = ["defaults/main.yml", "vars/main.yml"].filter((f) => existsSync(path.join(targetDir, f)));
  const play = {
    name: "compat",
    hosts: "testhost",
    gather_facts: true,
    vars: { output_dir: outputDir, remote_tmp_dir: outputDir, role_path: targetDir },
    ...(varsFiles.length ? { vars_files: varsFiles } : {}),
    tasks: [{ import_tasks: "tasks/main.yml", ...(keepGoing ? { ignore_errors: true } : {}) }],
    ...(existsSync(path.join(targetDir, "handlers", "main.yml"))
      ? { handlers: [{ import_tasks: "handlers/main.yml" }] }
      : {}),
  };
  return `${JSON.stringify([play], null, 2)}\n`;
}

const KEPT_FLAGS = new Set(["--check", "-C", "--diff", "-D"]);
const KEPT_VALUE_FLAGS = new Set(["-e", "--extra-vars", "-t", "--tags", "--skip-tags"]);
const DROPPED_VALUE_FLAGS = new Set(["-i", "--inventory", "-c", "--connection"]);

/** `ansible-playbook …` words → { playbook, args } or a reason it is not run. */
export function playbookCommand(words) {
  const args = [];
  let playbook;
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (KEPT_FLAGS.has(w)) args.push(w);
    else if (KEPT_VALUE_FLAGS.has(w)) args.push(w, words[++i]);
    else if (DROPPED_VALUE_FLAGS.has(w)) i++;
    else if (/^-v+$/.test(w) || w === "$@" || w === "--flush-cache") continue;
    else if (w.startsWith("-")) return { skip: `option ${w}` };
    else if (/\.ya?ml$/.test(w) && !playbook) playbook = w;
    else return { skip: `argument ${w}` };
  }
  return playbook ? { playbook, args } : { skip: "no playbook" };
}

/** The runs of a target: [{ label, playbook (relative to the target dir), args }] and what was left out. */
export function targetRuns(targetDir) {
  if (existsSync(path.join(targetDir, "tasks", "main.yml"))) {
    return { kind: "role", runs: [{ label: "tasks/main.yml", playbook: "compat-play.yml", args: [] }], left: [] };
  }
  const runme = path.join(targetDir, "runme.sh");
  if (!existsSync(runme)) return { kind: "none", runs: [], left: ["no tasks/main.yml and no runme.sh"] };
  const runs = [];
  const left = [];
  const lines = readFileSync(runme, "utf8").split("\n");
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!/^ansible-playbook\s/.test(line)) {
      if (/ansible-playbook/.test(line) && !line.startsWith("#")) left.push(`runme.sh:${i + 1}: not a plain ansible-playbook line`);
      return;
    }
    if (/[|&;<>`]|\$\(|\\$/.test(line.replace(/"\$@"/g, ""))) {
      left.push(`runme.sh:${i + 1}: pipes, redirects or continues`);
      return;
    }
    let words;
    try {
      words = split(line);
    } catch {
      left.push(`runme.sh:${i + 1}: unparsable`);
      return;
    }
    const cmd = playbookCommand(words);
    if (cmd.skip) left.push(`runme.sh:${i + 1}: ${cmd.skip}`);
    else runs.push({ label: `runme.sh:${i + 1}`, playbook: cmd.playbook, args: cmd.args });
  });
  return { kind: "runme", runs, left };
}
