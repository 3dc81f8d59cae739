/**
 * `tickless lint`: every construct of an Ansible repository tickless does not run; exit 4 if any,
 * as validate. Text: one line a finding (paths under the current directory relative), then the
 * count; `--json`: the findings as data (absolute paths).
 */
import path from "node:path";
import { EXIT } from "../errors.js";
import { formatFinding, lintPlaybooks } from "../lint/index.js";
import type { CliIo } from "./reporters.js";

export interface LintCommandOptions {
  inventory: string[];
  json?: boolean;
}

export async function lintCommand(files: string[], options: LintCommandOptions, io: CliIo): Promise<number> {
  const findings = await lintPlaybooks(files, { inventory: options.inventory, env: io.env ?? process.env });
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ findings, count: findings.length }, null, 2)}\n`);
  } else {
    io.stdout.write(findings.map((f) => `${formatFinding({ ...f, file: shown(f.file) })}\n`).join(""));
    const n = findings.length;
    io.stdout.write(n === 0 ? "no findings\n" : `${n} finding${n === 1 ? "" : "s"}\n`);
  }
  return findings.length === 0 ? EXIT.OK : EXIT.PARSE_ERROR;
}

/** A file under the current directory as a relative path (as the user named it); others as they are. */
function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === "" || rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}
