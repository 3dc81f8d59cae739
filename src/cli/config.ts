/**
 * `tickless config [--json]`: the ansible.cfg a run reads (found where Ansible finds it), each
 * setting tickless takes from it with its value and where it came from (file:line, or the
 * ANSIBLE_* environment variable that beats the file), and each key tickless ignores. Flags given
 * to `tickless run` beat all of these.
 */
import { type AnsibleConfig, loadAnsibleConfig } from "../config/ansible-cfg.js";
import type { CliIo } from "./reporters.js";

const WHERE = "ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg";

export async function configCommand(options: { json?: boolean }, io: CliIo): Promise<number> {
  const config = await loadAnsibleConfig(io.env ?? process.env);
  const settings = Object.entries(config.sources).map(([setting, { written, origin }]) => ({
    setting,
    value: (config as unknown as Record<string, unknown>)[setting],
    origin,
    written,
  }));
  if (options.json) {
    const doc = { file: config.file ?? null, settings, ignored: config.ignored, warnings: config.warnings };
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(`${lines(config, settings).join("\n")}\n`);
  return 0;
}

function lines(config: AnsibleConfig, settings: { value: unknown; origin: string; written: string }[]) {
  const out = [`ansible.cfg: ${config.file ?? `none found (${WHERE})`}`];
  for (const s of settings) {
    const value = Array.isArray(s.value) ? s.value.join(":") : String(s.value);
    const shown = s.written.endsWith(`= ${value}`) ? s.written : `${s.written} → ${value}`;
    out.push(`  ${shown}  (${s.origin})`);
  }
  if (settings.length === 0) out.push("  no setting tickless reads is given: the defaults apply");
  for (const w of config.warnings) out.push(`[WARNING]: ${w}`);
  return out;
}
