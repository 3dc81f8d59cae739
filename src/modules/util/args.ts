/** Small helpers for module argument schemas and their Ansible-style aliases. */

/** Copies `args` with each alias moved to its canonical name (the canonical name wins). */
export function resolveAliases<T extends object>(args: T, aliases: Record<string, string>): T {
  const out: Record<string, unknown> = { ...(args as Record<string, unknown>) };
  for (const [alias, canonical] of Object.entries(aliases)) {
    if (alias in out) {
      if (out[canonical] === undefined) out[canonical] = out[alias];
      delete out[alias];
    }
  }
  return out as T;
}

/** Schema fragment: at least one of `names` is present. */
export function requireOneOf(names: string[]): Record<string, unknown> {
  return { anyOf: names.map((n) => ({ required: [n] })) };
}

/** Schema fragment: no two of `names` together. */
export function mutuallyExclusive(names: string[]): Record<string, unknown>[] {
  const rules: Record<string, unknown>[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) rules.push({ not: { required: [names[i], names[j]] } });
  }
  return rules;
}

/**
 * The target path of a file module with its Ansible aliases (`dest`, `name`, `destfile`): the schema
 * properties, the "one of them is required" rule and the alias map, so that every file module
 * accepts the same spellings.
 */
export function pathArg(aliases: readonly string[]) {
  const names = ["path", ...aliases];
  return {
    properties: Object.fromEntries(names.map((n) => [n, { type: "string", minLength: 1 }])),
    required: {
      ...requireOneOf(names),
      description: `one of ${names.join(", ")} (the path to manage)`,
      // the one argument the union stands for: Ansible's "missing required arguments: path"
      title: "path",
    },
    aliases: Object.fromEntries(aliases.map((a) => [a, "path"])) as Record<string, string>,
  };
}
