/** Python's `repr` and `%` formatting of an integer, for the words and items of ansible-core's lookups. */

/** Python's repr of a JSON-like value (what `'%s' % value` prints for a list or a dict). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return pyStringRepr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value === "object")
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyStringRepr(k)}: ${pyRepr(v)}`)
      .join(", ")}}`;
  return String(value);
}

/** `'%s' % value`: a string as is, anything else as its repr. */
export function pyStr(value: unknown): string {
  return typeof value === "string" ? value : pyRepr(value);
}

function pyStringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
  return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
}

const SPEC = /%([#0\- +]*)(\d*)(?:\.(\d*))?[hlL]?([diouxXcrsa])/;

/**
 * `format % n` for a format holding one conversion (d i u o x X c r s a, with flags, width and
 * precision), as Python prints it; undefined where Python raises (an unknown conversion).
 */
export function pyFormatInt(format: string, n: number): string | undefined {
  const m = SPEC.exec(format);
  if (!m || m.index !== format.indexOf("%")) return undefined;
  const [spec, flags, width, precision, conversion] = m;
  const negative = n < 0;
  const abs = Math.abs(n);
  let digits: string;
  let prefix = "";
  switch (conversion) {
    case "o":
      digits = abs.toString(8);
      if (flags.includes("#")) prefix = "0o";
      break;
    case "x":
    case "X":
      digits = abs.toString(16);
      if (flags.includes("#")) prefix = "0x";
      if (conversion === "X") [digits, prefix] = [digits.toUpperCase(), prefix.toUpperCase()];
      break;
    case "c":
      return format.replace(spec, pad(String.fromCodePoint(n), flags, width, false));
    case "r":
    case "s":
    case "a":
      return format.replace(
        spec,
        pad(String(n).slice(0, precision === undefined ? undefined : Number(precision)), flags, width, false),
      );
    default:
      digits = String(abs);
  }
  if (precision !== undefined) digits = digits.padStart(Number(precision || "0"), "0");
  const sign = negative ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "";
  return format.replace(spec, pad(sign + prefix + digits, flags, width, true, sign.length + prefix.length));
}

function pad(text: string, flags: string, width: string, numeric: boolean, head = 0): string {
  const w = Number(width || "0");
  if (text.length >= w) return text;
  if (flags.includes("-")) return text.padEnd(w, " ");
  if (numeric && flags.includes("0")) return text.slice(0, head) + text.slice(head).padStart(w - head, "0");
  return text.padStart(w, " ");
}
