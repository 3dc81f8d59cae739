/**
 * A user's own Ansible module: a file named after the task's module in a library directory, searched
 * in Ansible's order (the playbooks' `library/`, the roles' `library/`, then ansible.cfg `library` /
 * ANSIBLE_LIBRARY), and what tickless needs to run it: a Python module ansible-core wraps in its
 * AnsiballZ payload (it imports `ansible.module_utils`), and ansible-core on the controller.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

/** Ansible's DEFAULT_MODULE_PATH when neither ansible.cfg `library` nor ANSIBLE_LIBRARY sets it. */
export function defaultLibraryPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const written = env.ANSIBLE_LIBRARY;
  if (written)
    return written
      .split(path.delimiter)
      .filter(Boolean)
      .map((p) => path.resolve(p.replace(/^~(?=$|\/)/, homedir())));
  return [path.join(homedir(), ".ansible/plugins/modules"), "/usr/share/ansible/plugins/modules"];
}

/** A module file found in a library directory: runnable, or why not. */
export type LibraryLookup =
  | { found: false }
  | { found: true; file: string; python: string }
  | { found: true; file: string; refusal: string; hint: string };

/** `name` and `name.py` (Ansible's module loader ignores other suffixes for a Python module). */
function moduleFile(dirs: readonly string[], name: string): string | undefined {
  for (const dir of dirs) {
    for (const file of [path.join(dir, name), path.join(dir, `${name}.py`)]) {
      if (existsSync(file) && statSync(file).isFile()) return file;
    }
  }
  return undefined;
}

/** The first 64 KiB of the file, as module_common reads a module to tell its style. */
function head(file: string): Buffer {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(65536);
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
}

/** ansible-core's module styles (module_common._find_module_utils): only "new" is run. */
export function moduleStyle(text: Buffer): "new" | "want_json" | "binary" | "old" {
  if (text.includes(0)) return "binary";
  const s = text.toString("utf8");
  if (
    s.includes("#<<INCLUDE_ANSIBLE_MODULE_COMMON>>") ||
    /from\s+ansible\.module_utils[.\s]|import\s+ansible\.module_utils\./.test(s) ||
    /from\s+ansible_collections\.\S+\.plugins\.module_utils/.test(s)
  ) {
    return "new";
  }
  if (s.includes("WANT_JSON")) return "want_json";
  return "old";
}

let controllerPython: string | null | undefined;

/**
 * The controller's Python with ansible-core: the interpreter of `ansible-playbook` on PATH (its
 * `#!` line), else `python3`, else `/usr/bin/python3`; the first that can `import ansible`.
 */
export function ansiblePython(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env !== process.env) return probePython(env);
  if (controllerPython === undefined) controllerPython = probePython(env) ?? null;
  return controllerPython ?? undefined;
}

function probePython(env: NodeJS.ProcessEnv): string | undefined {
  const candidates: string[] = [];
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, "ansible-playbook");
    if (!existsSync(file)) continue;
    const bang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(head(file).toString("utf8").split("\n")[0] ?? "");
    if (bang) candidates.push(bang[1].endsWith("/env") && bang[2] ? bang[2] : bang[1]);
    break;
  }
  candidates.push("python3", "/usr/bin/python3");
  return candidates.find(
    (python) =>
      spawnSync(python, ["-c", "import ansible.executor.module_common"], { stdio: "ignore", env }).status ===
      0,
  );
}

/** Finds `name` in the library directories and says whether tickless can run it. */
export function findLibraryModule(
  dirs: readonly string[],
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): LibraryLookup {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return { found: false };
  const file = moduleFile(dirs, name);
  if (file === undefined) return { found: false };
  const style = moduleStyle(head(file));
  if (style !== "new") {
    const what =
      style === "binary"
        ? "a binary module"
        : style === "want_json"
          ? "a WANT_JSON module"
          : "an old-style module (no ansible.module_utils import)";
    return {
      found: true,
      file,
      refusal: `${file} is ${what}; tickless runs Python modules that import ansible.module_utils`,
      hint: "write the module with AnsibleModule (from ansible.module_utils.basic import AnsibleModule)",
    };
  }
  const python = ansiblePython(env);
  if (python === undefined) {
    return {
      found: true,
      file,
      refusal: `${file} needs ansible-core on the controller to build its payload, and no Python here imports ansible`,
      hint: "install ansible-core on the controller (pip install ansible-core, or the distribution's ansible-core package)",
    };
  }
  return { found: true, file, python };
}
