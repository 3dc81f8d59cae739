/**
 * Task-by-task comparison of one playbook run under ansible-playbook (the parity_json callback's
 * report) and under tickless (its --json events). Both sides name each task by file:line, so the
 * two sequences are aligned on (file:line, host) with a longest-common-subsequence diff: a task only
 * one tool ran shows as missing on the other side.
 */
import { diffArrays } from "diff";
import { REFUSED } from "./refusals.mjs";

/** Ansible reports the include itself as a task; tickless does not (docs/compat.md): left out of both. */
const INCLUDE_ACTIONS = /(^|\.)(include_tasks|include_role|include|import_playbook)$/;

/** `file:line` relative to the side's root (tickless adds `:column`). */
function shortPath(p, root) {
  if (!p) return "(facts)";
  const m = /^(.*?):(\d+)(?::\d+)?$/.exec(p);
  const file = m ? m[1] : p;
  const rel = file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file;
  return m ? `${rel}:${m[2]}` : rel;
}

/** [{ key, where, name, host, status, result }] from the referee's report. */
export function ansibleEntries(report, root) {
  const out = [];
  for (const play of report.plays) {
    for (const t of play.tasks) {
      if (INCLUDE_ACTIONS.test(t.task.action)) continue;
      const facts = t.task.action === "gather_facts" || t.task.name === "Gathering Facts";
      for (const [host, r] of Object.entries(t.hosts)) {
        const where = facts ? "(facts)" : shortPath(t.task.path, root);
        out.push({ key: `${where} ${host}`, where, name: t.task.name, host, status: r.status, result: r });
      }
    }
  }
  return out;
}

/** The same from tickless's JSON lines. */
export function ticklessEntries(lines, root) {
  const out = [];
  let path = "";
  let meta = false;
  for (const line of lines.split("\n")) {
    if (!line.startsWith("{")) continue;
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (e.type === "task_start") {
      path = e.task === "Gathering Facts" ? "" : e.path;
      meta = e.meta === true;
    }
    // Ansible's callbacks never hear of a meta task: left out here too.
    if (e.type !== "host_result" || e.item !== undefined || meta) continue;
    const where = shortPath(path, root);
    const status = e.result?.msg === REFUSED ? "refused" : e.status;
    out.push({ key: `${where} ${e.host}`, where, name: e.task, host: e.host, status, result: e.result });
  }
  return out;
}

function oneLine(v, max = 160) {
  if (v === undefined || v === null) return "";
  const s = (typeof v === "string" ? v : JSON.stringify(v)).replace(/\s+/g, " ").trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** What a result says about itself in one line: its msg, or its rc and stderr. */
export function gist(r) {
  if (!r) return "";
  if (r.msg === REFUSED) return "";
  if (r.msg !== undefined && r.msg !== "") return oneLine(r.msg);
  if (r.rc !== undefined) return oneLine(`rc ${r.rc}${r.stderr ? `: ${r.stderr}` : ""}`);
  return "";
}

/** { tasks, ran, matched, same, sameMsg, differences: [{ where, name, ansible, tickless, detail, kind? }] }, in run order. */
export function compareRuns(ours, theirs) {
  const differences = [];
  let same = 0;
  let sameMsg = 0;
  let matched = 0;
  let i = 0;
  let j = 0;
  const missing = (e, side) => ({
    where: e.where,
    name: e.name,
    ansible: side === "ansible" ? e.status : "not run",
    tickless: side === "tickless" ? e.status : "not run",
    detail: gist(e.result),
  });
  for (const part of diffArrays(theirs, ours, { comparator: (a, b) => a.key === b.key })) {
    const n = part.count ?? part.value.length;
    if (part.added) {
      for (let k = 0; k < n; k++) differences.push(missing(ours[j + k], "tickless"));
      j += n;
      continue;
    }
    if (part.removed) {
      for (let k = 0; k < n; k++) differences.push(missing(theirs[i + k], "ansible"));
      i += n;
      continue;
    }
    for (let k = 0; k < n; k++) {
      const a = theirs[i + k];
      const t = ours[j + k];
      matched++;
      const base = { where: a.where, name: a.name, ansible: a.status, tickless: t.status };
      if (a.status !== t.status) {
        differences.push({ ...base, detail: `ansible: ${gist(a.result)} | tickless: ${gist(t.result)}` });
        continue;
      }
      same++;
      const am = a.result.msg;
      const tm = t.result.msg;
      if (am === undefined || a.where === "(facts)" || JSON.stringify(am) === JSON.stringify(tm)) sameMsg++;
      else
        differences.push({ ...base, kind: "msg", detail: `msg: ansible ${oneLine(am, 100)} | tickless ${oneLine(tm, 100)}` });
    }
    i += n;
    j += n;
  }
  return { tasks: theirs.length, ran: ours.length, matched, same, sameMsg, differences };
}
