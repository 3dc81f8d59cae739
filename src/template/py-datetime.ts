/**
 * A Python `datetime.datetime` as a template prints it: the template module's `template_mtime`
 * and `template_run_date`. `str()` is `YYYY-MM-DD HH:MM:SS[.ffffff]` in local time, `repr()`
 * `datetime.datetime(…)`; its methods (`strftime`, …) are not expressions here.
 */
export class PyDateTime {
  /** Local date and time fields, and the microseconds. */
  private readonly fields: number[];

  /** From seconds since the epoch, as Python's `datetime.fromtimestamp` rounds them (half even). */
  constructor(seconds: number) {
    let whole = Math.trunc(seconds);
    let us = roundHalfEven((seconds - whole) * 1e6);
    if (us >= 1_000_000) {
      whole += 1;
      us -= 1_000_000;
    }
    const d = new Date(whole * 1000);
    this.fields = [
      d.getFullYear(),
      d.getMonth() + 1,
      d.getDate(),
      d.getHours(),
      d.getMinutes(),
      d.getSeconds(),
      us,
    ];
  }

  toString(): string {
    const [y, mo, d, h, mi, s, us] = this.fields;
    const two = (n: number) => String(n).padStart(2, "0");
    const date = `${String(y).padStart(4, "0")}-${two(mo)}-${two(d)} ${two(h)}:${two(mi)}:${two(s)}`;
    return us === 0 ? date : `${date}.${String(us).padStart(6, "0")}`;
  }

  repr(): string {
    const fields = [...this.fields];
    while (fields.length > 5 && fields[fields.length - 1] === 0) fields.pop();
    return `datetime.datetime(${fields.join(", ")})`;
  }

  toJSON(): string {
    return this.toString();
  }
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
