/**
 * Python's time.strftime on Linux (glibc's strftime in the C locale) for a local time:
 * the conversions of POSIX and glibc (`%a` … `%Z`, `%e`, `%k`, `%s`, `%G`, `%V`, …), the flags
 * `_`, `-`, `0`, `^`, `#`, a field width and the E/O modifiers (no-ops in the C locale). As
 * glibc, a conversion it does not know is copied as written. One difference: `%Z` is the zone's
 * abbreviation as Intl names it, which for some zones is an offset (`GMT+5:30` where glibc's
 * tzdata says `IST`); UTC and America/New_York read the same.
 */

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** A number and how glibc pads it by default (`0` or `_`) to its width. */
type Num = { n: number; width: number; pad: "0" | "_" };

/** The local time of `seconds` since the epoch (its fraction dropped, as time.localtime) under `format`. */
export function pyStrftime(format: string, seconds: number): string {
  const d = new Date(Math.floor(seconds) * 1000);
  return format.replace(/%([_\-0^#]*)(\d*)([EO]?)(.)|%$/gs, (whole, flags: string, width: string, _m, c) =>
    c === undefined ? whole : (convert(c, d, flags, width ? Number(width) : undefined) ?? whole),
  );
}

function convert(c: string, d: Date, flags: string, width?: number): string | undefined {
  const v = value(c, d);
  if (v === undefined) return undefined;
  if (typeof v === "string") {
    // `#` swaps case as glibc does: names up, `%p` and `%Z` down
    const text = flags.includes("^") || (flags.includes("#") && /[aAbBh]/.test(c)) ? v.toUpperCase() : v;
    const cased = flags.includes("#") && /[pZ]/.test(c) ? text.toLowerCase() : text;
    return width && cased.length < width
      ? (flags.includes("0") ? "0" : " ").repeat(width - cased.length) + cased
      : cased;
  }
  const digits = String(Math.abs(v.n));
  const sign = v.n < 0 ? "-" : "";
  if (flags.includes("-")) return sign + digits;
  const pad = flags.includes("_") ? " " : flags.includes("0") ? "0" : v.pad === "0" ? "0" : " ";
  const w = (width ?? v.width) - sign.length;
  return sign + (digits.length < w ? pad.repeat(w - digits.length) + digits : digits);
}

function value(c: string, d: Date): string | Num | undefined {
  const num = (n: number, width = 2, pad: "0" | "_" = "0"): Num => ({ n, width, pad });
  const year = d.getFullYear();
  const hour12 = d.getHours() % 12 || 12;
  switch (c) {
    case "a":
      return DAYS[d.getDay()].slice(0, 3);
    case "A":
      return DAYS[d.getDay()];
    case "b":
    case "h":
      return MONTHS[d.getMonth()].slice(0, 3);
    case "B":
      return MONTHS[d.getMonth()];
    case "c":
      return pyStrftime("%a %b %e %H:%M:%S %Y", d.getTime() / 1000);
    case "C":
      return num(Math.floor(year / 100));
    case "d":
      return num(d.getDate());
    case "D":
    case "x":
      return pyStrftime("%m/%d/%y", d.getTime() / 1000);
    case "e":
      return num(d.getDate(), 2, "_");
    case "F":
      return pyStrftime("%Y-%m-%d", d.getTime() / 1000);
    case "G":
      return num(isoWeek(d).year, 1);
    case "g":
      return num(((isoWeek(d).year % 100) + 100) % 100);
    case "H":
      return num(d.getHours());
    case "I":
      return num(hour12);
    case "j":
      return num(dayOfYear(d) + 1, 3);
    case "k":
      return num(d.getHours(), 2, "_");
    case "l":
      return num(hour12, 2, "_");
    case "m":
      return num(d.getMonth() + 1);
    case "M":
      return num(d.getMinutes());
    case "n":
      return "\n";
    case "p":
      return d.getHours() < 12 ? "AM" : "PM";
    case "P":
      return d.getHours() < 12 ? "am" : "pm";
    case "r":
      return pyStrftime("%I:%M:%S %p", d.getTime() / 1000);
    case "R":
      return pyStrftime("%H:%M", d.getTime() / 1000);
    case "s":
      return num(Math.floor(d.getTime() / 1000), 1);
    case "S":
      return num(d.getSeconds());
    case "t":
      return "\t";
    case "T":
    case "X":
      return pyStrftime("%H:%M:%S", d.getTime() / 1000);
    case "u":
      return num(d.getDay() || 7, 1);
    case "U":
      return num(Math.floor((dayOfYear(d) + 7 - d.getDay()) / 7));
    case "V":
      return num(isoWeek(d).week);
    case "w":
      return num(d.getDay(), 1);
    case "W":
      return num(Math.floor((dayOfYear(d) + 7 - ((d.getDay() + 6) % 7)) / 7));
    case "y":
      return num(((year % 100) + 100) % 100);
    case "Y":
      return num(year, 1);
    case "z": {
      const off = -d.getTimezoneOffset();
      const abs = Math.abs(off);
      return `${off < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}${String(abs % 60).padStart(2, "0")}`;
    }
    case "Z":
      return zoneName(d);
    case "%":
      return "%";
    default:
      return undefined;
  }
}

/** Days since 1 January of the date's year (tm_yday). */
function dayOfYear(d: Date): number {
  return Math.round(
    (Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(d.getFullYear(), 0, 1)) / 86_400_000,
  );
}

/** The ISO 8601 week-based year and week of the date. */
function isoWeek(d: Date): { year: number; week: number } {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  t.setUTCDate(t.getUTCDate() + 3 - ((t.getUTCDay() + 6) % 7)); // the week's Thursday
  const year = t.getUTCFullYear();
  return { year, week: 1 + Math.floor((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 / 7) };
}

/** The zone's abbreviation (tm_zone) as Intl names it: `UTC`, `EST`; some zones only as `GMT+1`. */
function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
    .formatToParts(d)
    .find((p) => p.type === "timeZoneName")?.value;
  return part ?? "";
}
