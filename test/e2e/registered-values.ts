/**
 * Registered results shown by `debug: var=NAME` in both tools, made comparable key by key: the
 * run's root written `<root>`, times and durations as their shapes, elapsed seconds kept, and the
 * keys one tool adds on purpose (each suite names them) left out.
 */
const DATETIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/;
const DELTA = /^\d+:\d\d:\d\d\.\d{6}$/;

function normalise(value: unknown, root: string, drop: ReadonlySet<string>): unknown {
  if (typeof value === "string") {
    if (DATETIME.test(value)) return "<datetime>";
    if (DELTA.test(value)) return "<delta>";
    return value.split(root).join("<root>");
  }
  if (Array.isArray(value)) return value.map((v) => normalise(v, root, drop));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !drop.has(k) && !k.startsWith("_ansible"))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, normalise(v, root, drop)]),
  );
}

/** `{ name: registered value }` of each `debug: var=NAME` result, in task order. */
export function shownValues(
  results: Record<string, unknown>[],
  names: string[],
  root: string,
  drop: ReadonlySet<string> = new Set(),
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of results) {
    const name = names.find((n) => n in r);
    if (name !== undefined) out[name] = normalise(r[name], root, drop);
  }
  return out;
}
