/** Options and results of runPlaybook: the library's main entry point (src/index.ts re-exports them). */
import type { ConnectionFactory } from "../connection/types.js";
import type { Inventory } from "../inventory/types.js";
import type { Module } from "../modules/types.js";
import type { Playbook } from "../playbook/types.js";
import type { VaultKeyring, VaultSources } from "../vault/index.js";
import type { EventListener, HostStats } from "./events.js";

export interface RunPlaybookOptions {
  /** Path of a playbook file, or one already loaded with loadPlaybook. */
  playbook: string | Playbook;
  /** Inventory path(s), an Ansible-style host list ("a,b,"), or a loaded inventory. Default: implicit localhost. */
  inventory?: string | string[] | Inventory;
  check?: boolean;
  diff?: boolean;
  /** Host pattern intersected with each play's hosts (-l/--limit). */
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  extraVars?: Record<string, unknown>;
  /** Hosts worked on at once (default 50). */
  forks?: number;
  /** Skip every task before the first one with this name. */
  startAtTask?: string;
  verbosity?: number;
  /** Custom modules (defineModule) added to the built-in ones. */
  modules?: Module[];
  /** Override the transport (tests, custom transports). Default: local or ssh per host settings. */
  connect?: ConnectionFactory;
  hostKeyChecking?: "strict" | "accept-new" | "off";
  /**
   * Seconds to wait for a host lock held by another run (--wait-lock); default 0: that host fails
   * at once, naming the holder. Check runs never take the lock.
   */
  waitLock?: number;
  /**
   * Seconds without an answer to SSH keepalives after which a connected host is given up as
   * unreachable (--unreachable-timeout; a host's tickless_unreachable_timeout wins). Default 60.
   */
  unreachableTimeout?: number;
  /**
   * Where roles are looked for after `roles/` beside the playbook (ansible.cfg's roles_path).
   * Default: ANSIBLE_ROLES_PATH, else Ansible's default roles path.
   */
  rolesPath?: string[];
  /** ansible.cfg `library` / ANSIBLE_LIBRARY (default: Ansible's DEFAULT_MODULE_PATH). */
  libraryPath?: string[];
  /** What ansible.cfg sets (src/config): defaults below the inventory's and the playbook's own. */
  configDefaults?: ConfigDefaults;
  /**
   * Ansible Vault passwords: a keyring, or where to read them (password files, `label@source` vault
   * ids, a prompt). Without one, using a `!vault` value or loading an encrypted file is an error.
   */
  vault?: VaultKeyring | VaultSources;
  /** Receives every engine event (reporters are listeners). */
  onEvent?: EventListener | EventListener[];
  /** Abort the run (exit code 99). */
  signal?: AbortSignal;
  /**
   * Asked between loop items: a promise to wait for before the next one (the CLI's: its output
   * streams draining, so a long loop's lines wait in the pipe, not in memory), or nothing.
   */
  pace?: () => Promise<void> | undefined;
}

export interface RunSummary {
  /** As ansible-playbook: 0 ok, 1 error, 2 a host failed, 4 a host unreachable or a parse error, 99 interrupted. */
  exitCode: number;
  stats: Record<string, HostStats>;
  /** Totals over all hosts. */
  totals: HostStats;
  failedHosts: string[];
  unreachableHosts: string[];
  /** Hosts whose new settings take effect only at their next boot (a check run: would). */
  rebootPending: string[];
}

/** Defaults from ansible.cfg: each loses to what the inventory, the playbook or a flag says. */
export interface ConfigDefaults {
  /** Connection variables (ansible_user, ansible_private_key_file, ansible_timeout, …) below the inventory's. */
  connectionVars?: Record<string, unknown>;
  /** `become` / `become_user` of plays that do not set them. */
  become?: boolean;
  becomeUser?: string;
  /**
   * `[defaults] ansible_managed`: what templates see as `ansible_managed`, after Python's
   * str.format (`{host}`, `{uid}`, `{file}`) and time.strftime at the template's mtime.
   */
  ansibleManaged?: string;
}
