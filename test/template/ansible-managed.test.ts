import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ansibleManaged, formatManaged } from "../../src/template/ansible-managed.js";
import { pyStrftime } from "../../src/template/py-strftime.js";

/** What Python's time.strftime(format, time.localtime(t)) gives for each time, under the zone. */
function python(format: string, times: number[], tz: string): string[] {
  const code =
    "import json,sys,time\nprint(json.dumps([time.strftime(sys.argv[1], time.localtime(float(t))) for t in sys.argv[2:]]))";
  const out = execFileSync("python3", ["-c", code, format, ...times.map(String)], {
    env: { ...process.env, TZ: tz },
    encoding: "utf8",
  });
  return JSON.parse(out);
}

/** tickless's strftime under the zone (Node reads TZ when it changes). */
function tickless(format: string, times: number[], tz: string): string[] {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try {
    return times.map((t) => pyStrftime(format, t));
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

// epoch, a leap day, ISO-week edges (a year's first days in the last week, its last in week 1), a fraction
const TIMES = [
  0, 951782400, 1104537600, 1230681600, 1735603200, 1767225599, 1700000000.9, 1609459200, 1720000000,
];
const CODES =
  "%a %A %b %B %c %C %d %D %e %F %G %g %h %H %I %j %k %l %m %M %n %p %P %r %R %s %S %t %T %u %U %V %w %W %x %X %y %Y %z %Z %%";
const FLAGS = "%-d %_m %0e %^a %^B %#Z %#p %10Y %3d %Ey %Od %5e %-j %Q %-Q|%";

describe("pyStrftime (Python's time.strftime on Linux)", () => {
  for (const tz of ["UTC", "America/New_York", "Europe/Paris"]) {
    it(`gives Python's text for every conversion, in ${tz}`, () => {
      // %Z: Intl names Paris's zone GMT+1, glibc CET (see py-strftime.ts)
      const codes = tz === "Europe/Paris" ? CODES.replace(" %Z", "") : CODES;
      expect(tickless(codes, TIMES, tz)).toEqual(python(codes, TIMES, tz));
    });
  }
  it("gives a half-hour zone's offset, as Python", () => {
    const codes = CODES.replace(" %Z", "");
    expect(tickless(codes, TIMES, "Asia/Kolkata")).toEqual(python(codes, TIMES, "Asia/Kolkata"));
  });
  it("takes glibc's flags and widths, and copies an unknown conversion as written", () => {
    expect(tickless(FLAGS, TIMES, "UTC")).toEqual(python(FLAGS, TIMES, "UTC"));
  });
});

describe("formatManaged (str.format with host, uid and file)", () => {
  const fields = { host: "ctl", uid: "deploy", file: "redis.conf.j2" };
  it("fills the fields and unescapes doubled braces", () => {
    expect(formatManaged("{uid}@{host}: {file} {{x}} {host}", fields)).toBe(
      "deploy@ctl: redis.conf.j2 {x} ctl",
    );
    // Python's conversions and format specs, as python3 gives them
    const texts = ["[{uid!r}] [{host:>5}] [{file:.5}]", "{file:*^17}|{host!s:<4}|", "}}{{uid}}"];
    const code =
      "import json,sys\nprint(json.dumps([t.format(host='ctl', uid='deploy', file='redis.conf.j2') for t in sys.argv[1:]]))";
    const theirs = JSON.parse(execFileSync("python3", ["-c", code, ...texts], { encoding: "utf8" }));
    expect(texts.map((t) => formatManaged(t, fields))).toEqual(theirs);
    expect(theirs[0]).toBe("['deploy'] [  ctl] [redis]");
  });
  it("fails as Python would, naming the ansible.cfg key", () => {
    expect(() => formatManaged("by {nope}", fields)).toThrow(
      /^KeyError: 'nope' \(from ansible\.cfg \[defaults\] ansible_managed = by \{nope\}; it may name \{host\}, \{uid\}, \{file\}/,
    );
    expect(() => formatManaged("a } b", fields)).toThrow(
      /^ValueError: Single '}' encountered in format string/,
    );
    expect(() => formatManaged("a { b", fields)).toThrow(
      /^ValueError: Single '\{' encountered in format string/,
    );
    expect(() => formatManaged("{}", fields)).toThrow(/^IndexError: Replacement index 0 out of range/);
  });
  it("formats first, then strftime: a field's own % is a conversion", () => {
    const at = Date.UTC(2024, 2, 5, 7, 8, 9) / 1000;
    const before = process.env.TZ;
    process.env.TZ = "UTC";
    try {
      expect(ansibleManaged("{uid} {file} %Y-%m-%d %% done", { host: "h", uid: "u", file: "f%H" }, at)).toBe(
        "u f07 2024-03-05 % done",
      );
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });
});
