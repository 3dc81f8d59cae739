import { ParseError, type SourceLocation, TicklessError } from "../errors.js";
import { VaultValue } from "../vault/keyring.js";
import { hasTemplate } from "./jinja/classify.js";
import { undefinedVariable } from "./suggest.js";
import { UnsafeText } from "./unsafe.js";

/** Renders one template string found inside the vars, in the same scope (so cycles are seen). */
export type NestedRenderer = (source: string, scope: Scope, label: string) => unknown;

/** Deeper than this, a chain of vars referring to vars is certainly a mistake. */
const MAX_DEPTH = 64;

/** Names a lenient `Identifier.from` root in expressions: missing names read as undefined there. */
export const LENIENT_ROOT = "\u0000lenient";

/** Python/Jinja literals that expressions may use as bare words, unless a var shadows them. */
const CONSTANTS: Record<string, unknown> = {
  True: true,
  False: false,
  None: null,
  none: null,
  null: null,
};

/**
 * The vars of one render or evaluation, seen through proxies that render template strings
 * lazily and recursively when they are read (like Ansible), memoised for this call only, with
 * cycle detection. A Scope lives for one top-level call, so the vars may change between calls.
 */
export class Scope {
  readonly raw: Record<string, unknown>;
  readonly loc?: SourceLocation;
  /** The lenient view of the top-level vars (what Handlebars sees). */
  readonly root: Record<string, unknown>;
  /** The error a lookup raised: jexl re-wraps errors thrown inside its operators. */
  pendingError?: TicklessError;
  private readonly render: NestedRenderer;
  private readonly stack: { label: string; source: string }[];
  private readonly views: WeakMap<object, unknown>;
  /** Whether an `!unsafe` value was read since the last `tracking` began (shared with child scopes). */
  private readonly taint: { read: boolean };
  /** A template's own names (loop variables, `set`): plain values, read before the vars. */
  private readonly locals?: Record<string, unknown>;
  private strictRootCache?: Record<string, unknown>;

  constructor(
    raw: Record<string, unknown>,
    render: NestedRenderer,
    loc?: SourceLocation,
    parent?: Scope,
    locals?: Record<string, unknown>,
  ) {
    this.raw = raw;
    this.locals = locals;
    this.render = render;
    this.loc = loc;
    this.stack = parent?.stack ?? [];
    this.views = parent?.views ?? new WeakMap();
    this.taint = parent?.taint ?? { read: false };
    this.root = parent?.root ?? (this.view(raw, "") as Record<string, unknown>);
  }

  /** The same vars (and cycle check) with a template's own names over them, read at `loc`. */
  withLocals(locals: Record<string, unknown>, loc = this.loc): Scope {
    return new Scope(this.raw, this.render, loc, this, locals);
  }

  /** No vars at all, for a template imported without context (its macros see none). */
  empty(loc = this.loc): Scope {
    return new Scope({}, this.render, loc);
  }

  /** A template's own name, when it has one by that name. */
  private local(name: string): { value: unknown } | undefined {
    return this.locals && Object.hasOwn(this.locals, name) ? { value: this.locals[name] } : undefined;
  }

  /** Top-level view for expressions: an undefined name is an UNDEFINED_VARIABLE error. */
  get strictRoot(): Record<string, unknown> {
    if (!this.strictRootCache) {
      const lenient = this.root;
      const guarded = this.guardedRoot();
      this.strictRootCache = new Proxy(Object.create(null) as Record<string, unknown>, {
        get: (_target, name) => {
          if (typeof name !== "string") return undefined;
          if (name === LENIENT_ROOT) return guarded;
          const own = this.local(name);
          if (own) return own.value;
          if (Object.hasOwn(this.raw, name)) return lenient[name];
          if (Object.hasOwn(CONSTANTS, name)) return CONSTANTS[name];
          this.pendingError = undefinedVariable(name, "expression", this.raw, this.loc);
          throw this.pendingError;
        },
      });
    }
    return this.strictRootCache;
  }

  /**
   * The view behind `x is defined` and `x|default(…)`: as in Ansible, a var whose template uses
   * an undefined variable is itself undefined there.
   */
  private guardedRoot(): Record<string, unknown> {
    const lenient = this.root;
    return new Proxy(Object.create(null) as Record<string, unknown>, {
      get: (_target, name) => {
        if (typeof name !== "string") return undefined;
        const own = this.local(name);
        if (own) return own.value;
        if (!Object.hasOwn(this.raw, name))
          return Object.hasOwn(CONSTANTS, name) ? CONSTANTS[name] : undefined;
        try {
          return lenient[name];
        } catch (err) {
          if (err instanceof ParseError && err.code === "UNDEFINED_VARIABLE") {
            this.pendingError = undefined;
            return undefined;
          }
          throw err;
        }
      },
    });
  }

  /** Runs `body` and says whether it read an `!unsafe` value (its result is then unsafe too). */
  tracking<T>(body: () => T): { value: T; unsafe: boolean } {
    const before = this.taint.read;
    this.taint.read = false;
    try {
      const value = body();
      return { value, unsafe: this.taint.read };
    } finally {
      this.taint.read ||= before;
    }
  }

  /** Marks what is being rendered unsafe, as a lookup plugin's result makes it (ansible-core's _lookup). */
  markUnsafe(): void {
    this.taint.read = true;
  }

  /** Resolves a value read from the vars: template strings rendered, containers wrapped. */
  resolve(value: unknown, label: string): unknown {
    if (value instanceof VaultValue) return this.resolve(value.reveal(), label);
    if (value instanceof UnsafeText) {
      this.taint.read = true;
      return value.text;
    }
    if (typeof value === "string") {
      return hasTemplate(value) ? this.renderNested(value, label) : value;
    }
    if (value !== null && typeof value === "object") return this.view(value, label);
    return value;
  }

  private renderNested(source: string, label: string): unknown {
    const cycleAt = this.stack.findIndex((frame) => frame.source === source);
    if (cycleAt >= 0 || this.stack.length >= MAX_DEPTH) {
      const chain = [...this.stack.slice(Math.max(cycleAt, 0)).map((f) => f.label), label].join(" → ");
      throw new ParseError("TEMPLATE", `variable "${label}" refers to itself: ${chain}`, {
        location: this.loc,
        hint: "a variable's template must not use the variable itself, directly or through others",
      });
    }
    this.stack.push({ label, source });
    try {
      return this.render(source, this, label);
    } catch (err) {
      if (err instanceof TicklessError) this.pendingError ??= err;
      throw err;
    } finally {
      this.stack.pop();
    }
  }

  private view(value: object, path: string): unknown {
    const known = this.views.get(value);
    if (known !== undefined) return known;
    let made: unknown;
    if (Array.isArray(value)) {
      made = this.arrayView(value, path);
    } else if (isPlainObject(value)) {
      made = this.objectView(value as Record<string, unknown>, path);
    } else {
      made = value;
    }
    this.views.set(value, made);
    return made;
  }

  /**
   * A list seen through a proxy that resolves an element when it is read (`results | length`
   * over a 200,000-item registered loop builds no view of any item).
   */
  private arrayView(raw: unknown[], path: string): unknown[] {
    const memo = new Map<number, { value: unknown; unsafe: boolean }>();
    const at = (i: number): unknown => {
      const known = memo.get(i) ?? this.tracking(() => this.resolve(raw[i], `${path}[${i}]`));
      memo.set(i, known);
      if (known.unsafe) this.taint.read = true;
      return known.value;
    };
    const index = (key: string | symbol): number | undefined =>
      typeof key === "string" && /^(0|[1-9]\d*)$/.test(key) && Number(key) < raw.length
        ? Number(key)
        : undefined;
    return new Proxy(raw, {
      get: (target, key, receiver) => {
        const i = index(key);
        return i === undefined ? Reflect.get(target, key, receiver) : at(i);
      },
      getOwnPropertyDescriptor: (target, key) => {
        const d = Reflect.getOwnPropertyDescriptor(target, key);
        const i = index(key);
        return d && i !== undefined ? { ...d, value: at(i) } : d;
      },
      set: () => false,
      deleteProperty: () => false,
      defineProperty: () => false,
    });
  }

  private objectView(raw: Record<string, unknown>, path: string): Record<string, unknown> {
    const memo = new Map<string, { value: unknown; unsafe: boolean }>();
    const read = (key: string): unknown => {
      const known =
        memo.get(key) ?? this.tracking(() => this.resolve(raw[key], path ? `${path}.${key}` : key));
      memo.set(key, known);
      if (known.unsafe) this.taint.read = true;
      return known.value;
    };
    return new Proxy(Object.create(null) as Record<string, unknown>, {
      get: (_target, key) => {
        if (typeof key === "string" && Object.hasOwn(raw, key)) return read(key);
        return key === "toString" || key === "valueOf" ? Object.prototype[key] : undefined;
      },
      has: (_target, key) => typeof key === "string" && Object.hasOwn(raw, key),
      ownKeys: () => Object.keys(raw),
      getOwnPropertyDescriptor: (_target, key) =>
        typeof key === "string" && Object.hasOwn(raw, key)
          ? { value: raw[key], writable: true, enumerable: true, configurable: true }
          : undefined,
      set: () => false,
      deleteProperty: () => false,
    });
  }
}

/** A deep plain copy of a value that may hold views, for handing results to callers. */
export function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(toPlain);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = toPlain((value as Record<string, unknown>)[key]);
  return out;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
