/**
 * So one refused task does not hide the rest of a target: each task tickless refuses at load time
 * is replaced, in tickless's copy only, by a `debug` task that says so, on the same lines (every
 * later task keeps its file:line, so the comparison still pairs them). `tickless validate` runs
 * until it accepts the playbook or stops making progress.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { isMap, LineCounter, parseDocument, visit } from "yaml";

export const REFUSED = "refused by tickless at load time";

/** `file:line:col: message` lines of a `tickless validate` run. */
export function locatedErrors(stderr) {
  const out = [];
  for (const line of stderr.split("\n")) {
    const m = /^(\/[^:]+):(\d+):(\d+): (.*)$/.exec(line.trim());
    if (m) out.push({ file: m[1], line: Number(m[2]), col: Number(m[3]), message: m[4] });
  }
  return out;
}

/** The text with the innermost sequence item (a mapping: a task or block) around line:col replaced. */
export function replaceTaskAt(text, line, col) {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, keepSourceTokens: false });
  const offset = counter.lineStarts[line - 1] + col - 1;
  let best;
  visit(doc, {
    Seq(_, seq, path) {
      for (const item of seq.items) {
        if (!isMap(item) || !item.range) continue;
        // A play is left as it is (tickless then refuses the file): only tasks and blocks are stood in for.
        if (path.length <= 1 && (item.has("hosts") || item.has("import_playbook"))) continue;
        const [start, , end] = item.range;
        if (start <= offset && offset < end && (!best || start >= best[0])) best = [start, end];
      }
    },
  });
  if (!best) return undefined;
  const [start, end] = best;
  const old = text.slice(start, end);
  const newlines = (old.match(/\n/g) ?? []).length;
  const flow = `{debug: {msg: "${REFUSED}"}}`;
  return text.slice(0, start) + flow + "\n".repeat(newlines) + text.slice(end);
}

/** Patches tickless's copy until validate accepts it; the refusals, first first. */
export async function patchRefusals(tickless, playbook, inventory, cwd, rounds = 40) {
  const refusals = [];
  for (let i = 0; i < rounds; i++) {
    const res = await promisify(execFile)(process.execPath, [tickless, "validate", playbook, "-i", inventory], {
      cwd,
    }).catch((e) => e);
    if (!res.code) return { refusals, clean: true };
    const errors = locatedErrors(`${res.stdout ?? ""}\n${res.stderr ?? ""}`);
    let progress = false;
    const byFile = new Map();
    for (const e of errors) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
    for (const [file, errs] of byFile) {
      let text = await readFile(file, "utf8");
      // Bottom up, so earlier offsets stay valid.
      for (const e of [...errs].sort((a, b) => b.line - a.line || b.col - a.col)) {
        const next = replaceTaskAt(text, e.line, e.col);
        if (next === undefined || next === text) continue;
        text = next;
        progress = true;
      }
      await writeFile(file, text);
    }
    refusals.push(...errors);
    if (!progress) return { refusals, clean: false };
  }
  return { refusals, clean: false };
}
