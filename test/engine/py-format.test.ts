/**
 * with_sequence's `format` and the lookups' error texts print as Python prints them: each case is
 * computed by python3 itself and compared.
 */
import { execFileSync } from "node:child_process";
import { expect, test } from "vitest";
import { pyFormatInt, pyRepr } from "../../src/engine/py-format.js";

const hasPython = (() => {
  try {
    execFileSync("python3", ["-c", "pass"]);
    return true;
  } catch {
    return false;
  }
})();

const FORMATS = [
  "%d",
  "%05d",
  "%-5d|",
  "%+d",
  "% d",
  "%x",
  "%#x",
  "%X",
  "%#06X",
  "%o",
  "%#o",
  "%s",
  "%5s",
  "%.3d",
  "%i",
  "%u",
  "host%02d.lab",
  "%ld",
];
const NUMBERS = [0, 7, -7, 255, 4096];

test.skipIf(!hasPython)("format % n for every flag and conversion with_sequence accepts", () => {
  const cases = FORMATS.flatMap((f) => NUMBERS.map((n) => [f, n] as const));
  const script = `import json,sys\nprint(json.dumps([f % n for f, n in json.load(sys.stdin)]))`;
  const python = JSON.parse(
    execFileSync("python3", ["-c", script], { input: JSON.stringify(cases) }).toString(),
  );
  expect(cases.map(([f, n]) => pyFormatInt(f, n))).toEqual(python);
});

test("a conversion Python refuses for an integer gives nothing", () => {
  expect(pyFormatInt("%q", 1)).toBeUndefined();
  expect(pyFormatInt("no conversion", 1)).toBeUndefined();
});

test.skipIf(!hasPython)("repr of the values a lookup names in its errors", () => {
  const values = [
    { name: "alice", keys: ["k1", "it's"], n: 1, t: true, f: false, z: null, s: 'say "hi"\n' },
    "plain",
    3,
  ];
  const script = `import json,sys\nprint(json.dumps([repr(v) for v in json.load(sys.stdin)]))`;
  const python = JSON.parse(
    execFileSync("python3", ["-c", script], { input: JSON.stringify(values) }).toString(),
  );
  expect(values.map(pyRepr)).toEqual(python);
});
