/** Module registry: name (and aliases, e.g. `ansible.builtin.copy`) → module. */
import { BUILTIN_MODULES } from "./builtin.js";
import { defaultLibraryPath, findLibraryModule, type LibraryLookup } from "./library/find.js";
import { libraryModule } from "./library/run.js";
import type { Module } from "./types.js";

export class ModuleRegistry {
  private readonly byName = new Map<string, Module>();
  /** Library directories added as playbooks and roles load (Ansible's add_directory), in that order. */
  private readonly libraryDirs: string[] = [];
  /** ansible.cfg `library` / ANSIBLE_LIBRARY: searched after the playbooks' and roles' directories. */
  libraryPath: string[] = defaultLibraryPath();

  constructor(modules: Iterable<Module> = BUILTIN_MODULES) {
    for (const m of modules) this.register(m);
  }

  /** Adds a module under its name, its aliases, and `ansible.builtin.<name>` / `tickless.<name>`. */
  register(module: Module): void {
    const names = new Set([module.name, ...(module.aliases ?? [])]);
    names.add(`ansible.builtin.${module.name}`);
    names.add(`tickless.${module.name}`);
    for (const n of names) this.byName.set(n, module);
  }

  /** A playbook's or role's `library/` directory, searched for modules tickless does not have. */
  addLibraryDir(dir: string): void {
    if (!this.libraryDirs.includes(dir)) this.libraryDirs.push(dir);
  }

  /**
   * A module tickless does not have, looked up in the library directories; a runnable one is
   * registered under its name (so the run finds it), an unrunnable one says why.
   */
  fromLibrary(name: string): LibraryLookup {
    const found = findLibraryModule([...this.libraryDirs, ...this.libraryPath], name);
    if (found.found && "python" in found)
      this.byName.set(name, libraryModule(name, found.file, found.python));
    return found;
  }

  get(name: string): Module | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Canonical names (no aliases), sorted. */
  names(): string[] {
    return [...new Set([...this.byName.values()].map((m) => m.name))].sort();
  }

  /** Every name a module answers to (for "did you mean" hints). */
  allNames(): string[] {
    return [...this.byName.keys()];
  }
}

/** The registry with every built-in module. */
export function defaultRegistry(extra: Iterable<Module> = []): ModuleRegistry {
  const r = new ModuleRegistry();
  for (const m of extra) r.register(m);
  return r;
}
