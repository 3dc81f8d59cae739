/**
 * Python's str.format: `{}`, `{0}`, `{name}`, `{x.attr}`, `{x[0]}`, `!r` / `!s`, and the common
 * format specs ([[fill]align][sign][0][width][,][.precision][type], type one of s d f F % x X o b
 * e E). What else Python accepts (nested fields in a spec, `=` alignment, `g`) is refused.
 */
import { fail, pyType } from "./method-args.js";
import { pyRepr, pyStr } from "./python.js";

const SPEC = /^(?:(.)?([<>^]))?([+\- ])?(0)?(\d+)?(,)?(?:\.(\d+))?([sdfF%xXobeE])?$/;

/** `template.format(*args, **kw)` as Python gives it. */
export function pyFormat(template: string, args: unknown[], kw: Record<string, unknown>): string {
  let out = "";
  let auto = 0;
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c === "}" && template[i + 1] === "}") {
      out += "}";
      i += 2;
    } else if (c === "}") {
      fail("Single '}' encountered in format string");
    } else if (c === "{" && template[i + 1] === "{") {
      out += "{";
      i += 2;
    } else if (c === "{") {
      const end = template.indexOf("}", i);
      if (end < 0) fail("Single '{' encountered in format string");
      const field = template.slice(i + 1, end);
      if (field.includes("{")) fail("nested replacement fields in a format spec are not supported");
      out += replacement(field, args, kw, () => auto++);
      i = end + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function replacement(
  field: string,
  args: unknown[],
  kw: Record<string, unknown>,
  next: () => number,
): string {
  const m = /^([^.[!:]*)((?:\.\w+|\[[^\]]*\])*)(?:!([rsa]))?(?::(.*))?$/.exec(field);
  if (!m) fail(`invalid format field {${field}}`);
  const [, name, path, conversion, spec = ""] = m;
  let value: unknown;
  if (name === "" || /^\d+$/.test(name)) {
    const at = name === "" ? next() : Number(name);
    if (at >= args.length) fail(`Replacement index ${at} out of range for positional args tuple`);
    value = args[at];
  } else {
    if (!Object.hasOwn(kw, name)) fail(`'${name}'`, "a {name} field needs name=value in the call");
    value = kw[name];
  }
  for (const step of path.match(/\.\w+|\[[^\]]*\]/g) ?? []) value = access(value, step);
  if (conversion === "r" || conversion === "a") return applySpec(pyRepr(value), spec);
  if (conversion === "s") return applySpec(pyStr(value), spec);
  return applySpec(value, spec);
}

function access(value: unknown, step: string): unknown {
  const key = step.startsWith(".") ? step.slice(1) : step.slice(1, -1);
  if (Array.isArray(value) && /^\d+$/.test(key)) {
    if (Number(key) >= value.length) fail("list index out of range");
    return value[Number(key)];
  }
  if (value !== null && typeof value === "object" && Object.hasOwn(value, key)) {
    return (value as Record<string, unknown>)[key];
  }
  return fail(step.startsWith(".") ? `'${pyType(value)}' object has no attribute '${key}'` : `'${key}'`);
}

function applySpec(value: unknown, spec: string): string {
  if (spec === "") return pyStr(value);
  const m = SPEC.exec(spec);
  if (!m)
    fail(
      `the format spec "${spec}" is not supported`,
      "tickless formats [[fill]align][sign][0][width][,][.precision][type]",
    );
  const [, fillChar, align, sign, zero, width, comma, precision, type] = m;
  const number = typeof value === "number" || typeof value === "boolean";
  let text: string;
  if (type === undefined || type === "s") {
    if (type === "s" && typeof value !== "string") badCode("s", value);
    if (number && (sign || comma || precision !== undefined))
      text = formatNumber(Number(value), "", sign, comma, precision);
    else {
      text = pyStr(value);
      if (precision !== undefined && typeof value === "string") text = text.slice(0, Number(precision));
    }
  } else {
    if (!number) badCode(type, value);
    text = formatNumber(Number(value), type, sign, comma, precision);
  }
  const w = Number(width ?? 0);
  if (text.length >= w) return text;
  const fill = zero && !align ? "0" : (fillChar ?? " ");
  const side = align ?? (number ? ">" : "<");
  const gap = w - text.length;
  if (zero && !align && number && /^[+\- ]/.test(text)) return text[0] + "0".repeat(gap) + text.slice(1);
  if (side === "<") return text + fill.repeat(gap);
  if (side === ">") return fill.repeat(gap) + text;
  const left = Math.floor(gap / 2);
  return fill.repeat(left) + text + fill.repeat(gap - left);
}

function badCode(type: string, value: unknown): never {
  return fail(`Unknown format code '${type}' for object of type '${pyType(value)}'`);
}

function formatNumber(n: number, type: string, sign = "-", comma?: string, precision?: string): string {
  const digits = precision === undefined ? 6 : Number(precision);
  if ((type === "d" || "xXob".includes(type || "?")) && !Number.isInteger(n)) badCode(type, n);
  let body: string;
  const abs = Math.abs(n);
  switch (type) {
    case "d":
      body = String(abs);
      break;
    case "x":
    case "X":
      body = abs.toString(16);
      if (type === "X") body = body.toUpperCase();
      break;
    case "o":
      body = abs.toString(8);
      break;
    case "b":
      body = abs.toString(2);
      break;
    case "f":
    case "F":
      body = abs.toFixed(digits);
      break;
    case "%":
      body = `${(abs * 100).toFixed(digits)}%`;
      break;
    case "e":
    case "E": {
      const [mantissa, exp] = abs.toExponential(digits).split("e");
      const e = Number(exp);
      body = `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
      if (type === "E") body = body.toUpperCase();
      break;
    }
    default:
      body = precision === undefined ? pyStr(abs) : String(Number(abs.toPrecision(digits || 1)));
  }
  if (comma) {
    const [whole, frac] = body.split(".");
    body = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (frac === undefined ? "" : `.${frac}`);
  }
  const lead = n < 0 || Object.is(n, -0) ? "-" : sign === "+" ? "+" : sign === " " ? " " : "";
  return lead + body;
}
