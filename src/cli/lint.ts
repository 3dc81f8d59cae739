/** `tickless lint`: every construct of an Ansible repository tickless does not run; exit 4 if any, as validate. */
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
    io.stdout.write(findings.map((f) => `${formatFinding(f)}\n`).join(""));
    const n = findings.length;
    io.stdout.write(n === 0 ? "no findings\n" : `${n} finding${n === 1 ? "" : "s"}\n`);
  }
  return findings.length === 0 ? EXIT.OK : EXIT.PARSE_ERROR;
}
