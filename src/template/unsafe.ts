/**
 * Ansible's `!unsafe`: a string that is never templated. It stays one through the variables
 * (play vars, vars files, include_vars, set_fact) and reads as its plain text in expressions; a
 * template that read one gives an unsafe result (ansible-core marks the whole render), so
 * `set_fact: y: "{{ x }}"` keeps `y` untemplated too.
 */
export class UnsafeText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

/** Ansible's wrap_var: every string inside a value made unsafe (numbers, booleans, None stay). */
export function markUnsafe(value: unknown): unknown {
  if (typeof value === "string") return new UnsafeText(value);
  if (Array.isArray(value)) return value.map(markUnsafe);
  if (isPlain(value)) {
    return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, markUnsafe(v)]));
  }
  return value;
}

/** The plain value a module receives: each UnsafeText its text. */
export function withoutUnsafe(value: unknown): unknown {
  if (value instanceof UnsafeText) return value.text;
  if (Array.isArray(value)) return value.some(holdsUnsafe) ? value.map(withoutUnsafe) : value;
  if (isPlain(value) && holdsUnsafe(value)) {
    return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, withoutUnsafe(v)]));
  }
  return value;
}

function holdsUnsafe(value: unknown): boolean {
  if (value instanceof UnsafeText) return true;
  if (Array.isArray(value)) return value.some(holdsUnsafe);
  return isPlain(value) && Object.values(value as object).some(holdsUnsafe);
}

function isPlain(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
