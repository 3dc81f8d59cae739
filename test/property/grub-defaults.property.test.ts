/**
 * Property: whatever GRUB defaults file of shell assignments an operator wrote (single and double
 * quotes, backslash escapes, trailing comments, $VAR and ${VAR} references, several assignments of
 * one variable), the edit either is refused with a located error, or gives — when the result is
 * sourced by the real /bin/sh — each wanted parameter exactly once with its value in
 * GRUB_CMDLINE_LINUX (none in GRUB_CMDLINE_LINUX_DEFAULT), the operator's other words in order,
 * and every line that is not a GRUB_CMDLINE_LINUX(_DEFAULT) assignment byte for byte.
 * A fixed random seed keeps runs reproducible; fast-check prints it with any counterexample.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, expect, test } from "vitest";
import { TicklessError } from "../../src/errors.js";
import { formatParam, type KernelParam, parseParams } from "../../src/modules/isolation/grub-cmdline.js";
import { evaluate, parseSources, planDefaults } from "../../src/modules/isolation/grub-defaults.js";

const SEED = 20261206;
/** Room for a loaded machine: the runs are few, but each spawns processes or writes files. */
const PROPERTY_TIMEOUT_MS = 180_000;
const PATH = "/etc/default/grub";
const dir = mkdtempSync(join(tmpdir(), "tickless-grub-prop-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The two variables after the real sh sources `content` in an empty environment. */
function sourced(content: string): { linux: string; linuxDefault: string } {
  const file = join(dir, "grub");
  writeFileSync(file, content);
  const out = execFileSync(
    "/usr/bin/env",
    [
      "-i",
      "/bin/sh",
      "-c",
      '. "$1"; printf "%s\\0%s" "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"',
      "sh",
      file,
    ],
    { encoding: "utf8" },
  );
  const [linux, linuxDefault] = out.split("\0");
  return { linux, linuxDefault };
}

const KEYS = ["quiet", "splash", "isolcpus", "nohz_full", "rcu_nocbs", "console", "mitigations"];
const VALUES = [undefined, "2-3", "1,4-5", "ttyS0,115200", "off", "managed_irq,domain,2-3"];
const word = fc
  .tuple(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES))
  .map(([key, value]) => formatParam({ key, value }));
const words = fc.array(word, { minLength: 0, maxLength: 4 });

/** Words as the right-hand side of an assignment, in one of the ways people write them. */
const rhs = (ref: fc.Arbitrary<string>) =>
  fc.oneof(
    words.map((w) => `"${w.join(" ")}"`),
    words.map((w) => `'${w.join(" ")}'`),
    words.map((w) => w.join("\\ ")),
    fc.tuple(words, words).map(([a, b]) => `"${a.join(" ")} "'${b.join(" ")}'`),
    fc.tuple(ref, words).map(([r, w]) => `"${r}${w.length ? " " : ""}${w.join(" ")}"`),
    fc.tuple(words, ref).map(([w, r]) => `"${w.join(" ")}${w.length ? " " : ""}${r}"`),
    words.map((w) => `"${w.map((x) => x.replace("=", "\\=")).join(" ")}"`),
    words.map((w) => `"${w.join(" ").replace("-", "\\-").replace(",", "\\\\,")}"`),
    words.map((w) => `"${w.join(" ")}"#not-a-comment`),
    words.map((w) => `"${w.join(" ")}";`),
  );
const comment = fc.constantFrom("", " # tuned by hand", "  #isolcpus=9 in a comment", "\t# 'quote' \"q\"");
const WATCHED = ["GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"];

/** A line of the file: a watched assignment, another variable's, a comment or a blank. */
const line = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...WATCHED),
        rhs(fc.constantFrom("$GRUB_CMDLINE_LINUX", `\${GRUB_CMDLINE_LINUX}`, "$EXTRA", `\${EXTRA}`)),
        comment,
      )
      .chain(([name, value, c]) =>
        fc
          .constantFrom("", "export ")
          .map((prefix) => ({ owned: true, text: `${prefix}${name}=${value}${c}` })),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("GRUB_TIMEOUT=5", 'GRUB_DISTRIBUTOR="Debian"', "# GRUB defaults", ""),
  },
  { weight: 1, arbitrary: rhs(fc.constant("")).map((v) => `EXTRA=${v}`) },
);
const file = fc
  .array(
    line.map((l) => (typeof l === "string" ? { owned: false, text: l } : l)),
    { minLength: 0, maxLength: 8 },
  )
  .map((lines) => ({
    content: lines.map((l) => `${l.text}\n`).join(""),
    others: lines.filter((l) => !l.owned).map((l) => l.text),
  }));

const WANTED: KernelParam[][] = [
  [{ key: "isolcpus", value: "2-3" }],
  [
    { key: "isolcpus", value: "managed_irq,domain,2-3" },
    { key: "nohz_full", value: "2-3" },
    { key: "rcu_nocbs", value: "2-3" },
  ],
  [{ key: "quiet" }, { key: "mitigations", value: "off" }],
];

/** The words of a variable's value whose key is not one of the wanted ones. */
const otherWords = (value: string, keys: Set<string>) =>
  parseParams(value)
    .filter((p) => !keys.has(p.key))
    .map(formatParam);

test(
  "the edit, sourced by /bin/sh, gives each parameter once and keeps everything else",
  () => {
    fc.assert(
      fc.property(file, fc.constantFrom(...WANTED), ({ content, others }, params) => {
        const before = sourced(content);
        let files: Map<string, string>;
        try {
          // what the parser understands of the file is what sh makes of it
          const values = evaluate(parseSources([{ path: PATH, content }]));
          expect(values.GRUB_CMDLINE_LINUX).toBe(before.linux);
          expect(values.GRUB_CMDLINE_LINUX_DEFAULT).toBe(before.linuxDefault);
          files = planDefaults([{ path: PATH, content }], { path: PATH, kind: "assignment" }, params);
        } catch (err) {
          // refused: a TASK error naming the file and line, or the parameter it cannot place
          expect(err).toBeInstanceOf(TicklessError);
          expect((err as Error).message).toMatch(
            /^\/etc\/default\/grub:\d+: |^cannot give the kernel exactly one /,
          );
          return;
        }
        const edited = files.get(PATH) ?? content;
        const after = sourced(edited);
        const keys = new Set(params.map((p) => p.key));
        for (const p of params) {
          const got = parseParams(after.linux).filter((w) => w.key === p.key);
          expect(got.map(formatParam)).toEqual([formatParam(p)]);
          expect(parseParams(after.linuxDefault).some((w) => w.key === p.key)).toBe(false);
        }
        expect(otherWords(after.linux, keys)).toEqual(otherWords(before.linux, keys));
        expect(otherWords(after.linuxDefault, keys)).toEqual(otherWords(before.linuxDefault, keys));
        const untouched = edited
          .split("\n")
          .filter((l) => !WATCHED.some((name) => l.replace(/^export /, "").startsWith(`${name}=`)));
        expect(untouched.slice(0, -1)).toEqual(others);
        // a second edit of the result changes nothing
        expect(
          planDefaults([{ path: PATH, content: edited }], { path: PATH, kind: "assignment" }, params).size,
        ).toBe(0);
      }),
      { seed: SEED, numRuns: 200 },
    );
  },
  PROPERTY_TIMEOUT_MS,
);
