/**
 * The repository's ansible.cfg: `ANSIBLE_CONFIG` when set, else the `ansible.cfg` of the
 * playbook's directory, else the current directory's (where Ansible would find it when run from
 * there; `~/.ansible.cfg` and `/etc/ansible/` are the machine's, not the repository's). Read by
 * the run's own reader: each key tickless does not read is a finding, and its `roles_path` is
 * where the playbook's roles are looked for.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import {
  type AnsibleConfig,
  findAnsibleConfig,
  IGNORED_HINT,
  readConfigText,
} from "../config/ansible-cfg.js";
import { defaultRolesPath } from "../playbook/index.js";
import type { Findings } from "./finding.js";

export class RepositoryConfigs {
  private readonly read = new Map<string, AnsibleConfig>();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd: string,
    private readonly findings: Findings,
  ) {}

  /** The roles path for a playbook in `dir`: ANSIBLE_ROLES_PATH, else its ansible.cfg's, else Ansible's default. */
  async rolesPath(dir: string): Promise<string[]> {
    const config = await this.configFor(dir);
    const fromEnv = this.env.ANSIBLE_ROLES_PATH;
    if (fromEnv !== undefined && fromEnv !== "") return defaultRolesPath(this.env);
    return config?.rolesPath ?? defaultRolesPath(this.env);
  }

  private async configFor(dir: string): Promise<AnsibleConfig | undefined> {
    const file = await this.fileFor(dir);
    if (file === undefined) return undefined;
    const known = this.read.get(file);
    if (known) return known;
    const config: AnsibleConfig = { origins: {}, sources: {}, warnings: [], ignored: [] };
    this.read.set(file, config);
    try {
      readConfigText(await readFile(file, "utf8"), file, config);
    } catch (err) {
      this.findings.error(err);
    }
    for (const key of config.ignored) {
      this.findings.add({
        file: key.file,
        line: key.line,
        column: 1,
        code: "CONFIG_IGNORED",
        message: `[${key.section}] ${key.key} is ignored`,
        hint: IGNORED_HINT,
      });
    }
    return config;
  }

  private async fileFor(dir: string): Promise<string | undefined> {
    if (this.env.ANSIBLE_CONFIG) return (await findAnsibleConfig(this.env, this.cwd)).file;
    for (const d of [dir, this.cwd]) {
      const file = path.join(d, "ansible.cfg");
      if (
        await stat(file).then(
          (s) => s.isFile(),
          () => false,
        )
      )
        return file;
    }
    return undefined;
  }
}
