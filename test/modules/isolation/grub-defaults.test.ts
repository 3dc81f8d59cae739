// biome-ignore-all lint/suspicious/noTemplateCurlyInString: sh text, not JS templates
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { parseParams } from "../../../src/modules/isolation/grub-cmdline.js";
import { type GrubSource, planDefaults } from "../../../src/modules/isolation/grub-defaults.js";
import { parseShFile } from "../../../src/modules/isolation/sh-assign.js";

const GRUB = "/etc/default/grub";
const PARAMS = parseParams("isolcpus=4-7 nohz_full=4-7");
const dir = mkdtempSync(join(tmpdir(), "tickless-grub-sh-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the host's sh reads: both variables after sourcing the files in order. */
function shValues(contents: string[]): [string, string] {
  const paths = contents.map((c, k) => {
    const p = join(dir, `f${k}.cfg`);
    writeFileSync(p, c);
    return p;
  });
  const script = `unset GRUB_CMDLINE_LINUX GRUB_CMDLINE_LINUX_DEFAULT; ${paths.map((p) => `. '${p}';`).join(" ")} printf '%s\\0%s' "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT" >&3`;
  const out = execFileSync("sh", ["-c", `{ ${script}; } 3>&1 >/dev/null 2>&1`], { encoding: "utf8" });
  const [linux, dflt] = out.split("\0");
  return [linux, dflt];
}

const grubDefault = (content: string): string => {
  const out = planDefaults([{ path: GRUB, content }], { path: GRUB, kind: "assignment" }, PARAMS);
  return out.get(GRUB) ?? content;
};

describe("GRUB_CMDLINE_LINUX edited with sh's quoting rules", () => {
  const cases: [string, string, string][] = [
    [
      "a trailing comment stays a comment",
      'GRUB_CMDLINE_LINUX="quiet splash" # keep console\n',
      'GRUB_CMDLINE_LINUX="quiet splash isolcpus=4-7 nohz_full=4-7" # keep console\n',
    ],
    [
      "single quotes",
      "GRUB_CMDLINE_LINUX='console=ttyS0,115200n8'\n",
      "GRUB_CMDLINE_LINUX='console=ttyS0,115200n8 isolcpus=4-7 nohz_full=4-7'\n",
    ],
    [
      "escaped double quotes inside the value",
      'GRUB_CMDLINE_LINUX="acpi_osi=\\"Windows 2015\\" quiet"\n',
      'GRUB_CMDLINE_LINUX="acpi_osi=\\"Windows 2015\\" quiet isolcpus=4-7 nohz_full=4-7"\n',
    ],
    ["unquoted", "GRUB_CMDLINE_LINUX=quiet\n", 'GRUB_CMDLINE_LINUX="quiet isolcpus=4-7 nohz_full=4-7"\n'],
    ["empty", "GRUB_CMDLINE_LINUX=\n", 'GRUB_CMDLINE_LINUX="isolcpus=4-7 nohz_full=4-7"\n'],
    ["empty quotes", "GRUB_CMDLINE_LINUX=''\n", "GRUB_CMDLINE_LINUX='isolcpus=4-7 nohz_full=4-7'\n"],
    [
      "several assignments: the last one (the one sh keeps) is edited",
      'GRUB_CMDLINE_LINUX="a"\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX b"\n',
      'GRUB_CMDLINE_LINUX="a"\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX b isolcpus=4-7 nohz_full=4-7"\n',
    ],
    [
      "${…} reference and export",
      'EXTRA="x=1"\nexport GRUB_CMDLINE_LINUX="${EXTRA} y"\n',
      'EXTRA="x=1"\nexport GRUB_CMDLINE_LINUX="${EXTRA} y isolcpus=4-7 nohz_full=4-7"\n',
    ],
    [
      "an operator's own different value is replaced in place; the one in _DEFAULT dropped",
      'GRUB_CMDLINE_LINUX="quiet isolcpus=2 nohz_full=4-7"\nGRUB_CMDLINE_LINUX_DEFAULT="isolcpus=1 splash"\n',
      'GRUB_CMDLINE_LINUX="quiet isolcpus=4-7 nohz_full=4-7"\nGRUB_CMDLINE_LINUX_DEFAULT="splash"\n',
    ],
    [
      "a duplicate in one value: the first is replaced, the second dropped",
      'GRUB_CMDLINE_LINUX="isolcpus=1 a isolcpus=4-7 nohz_full=4-7"\n',
      'GRUB_CMDLINE_LINUX="isolcpus=4-7 a nohz_full=4-7"\n',
    ],
    [
      "mixed quoting ends in single quotes; Debian's backquoted GRUB_DISTRIBUTOR is left alone",
      "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\nGRUB_CMDLINE_LINUX=\"a \"'b c'\n",
      "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\nGRUB_CMDLINE_LINUX=\"a \"'b c isolcpus=4-7 nohz_full=4-7'\n",
    ],
    [
      "Ubuntu's GRUB_DISTRIBUTOR (a subshell in backquotes) and Fedora's (sed in $(…)) are left alone",
      'GRUB_DISTRIBUTOR=`( . /etc/os-release; echo ${NAME:-Ubuntu} ) 2>/dev/null || echo Ubuntu`\nX="$(sed \'s, release .*$,,g\' /etc/system-release)"\nGRUB_CMDLINE_LINUX=""\n',
      'GRUB_DISTRIBUTOR=`( . /etc/os-release; echo ${NAME:-Ubuntu} ) 2>/dev/null || echo Ubuntu`\nX="$(sed \'s, release .*$,,g\' /etc/system-release)"\nGRUB_CMDLINE_LINUX="isolcpus=4-7 nohz_full=4-7"\n',
    ],
    [
      "a line continuation between two quoted parts: the word replaced in place",
      'GRUB_CMDLINE_LINUX="quiet "\\\n"isolcpus=1"\nZ=1\n',
      'GRUB_CMDLINE_LINUX="quiet "\\\n"isolcpus=4-7 nohz_full=4-7"\nZ=1\n',
    ],
    [
      "a word split across quotes and a line continuation: only that value is written again",
      'GRUB_CMDLINE_LINUX="quiet isol"\\\n"cpus=1"\nZ=1\n',
      'GRUB_CMDLINE_LINUX="quiet isolcpus=4-7 nohz_full=4-7"\nZ=1\n',
    ],
    [
      "a line continuation inside the quotes",
      'GRUB_CMDLINE_LINUX="a \\\nb"\n',
      'GRUB_CMDLINE_LINUX="a \\\nb isolcpus=4-7 nohz_full=4-7"\n',
    ],
    [
      "no assignment: a line is appended",
      "# comment\nGRUB_TIMEOUT=5",
      '# comment\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="isolcpus=4-7 nohz_full=4-7"\n',
    ],
    [
      "escaped space and a reference, ending in single quotes: appended inside them",
      "GRUB_CMDLINE_LINUX=a\\ $X'b'\n",
      "GRUB_CMDLINE_LINUX=a\\ $X'b isolcpus=4-7 nohz_full=4-7'\n",
    ],
    [
      "ending in a reference, unquoted: written again as one double-quoted word",
      "GRUB_CMDLINE_LINUX=a\\ $X\n",
      'GRUB_CMDLINE_LINUX="a ${X} isolcpus=4-7 nohz_full=4-7"\n',
    ],
  ];
  test.each(cases)("%s", (_name, before, after) => {
    expect(grubDefault(before)).toBe(after);
    const [linux] = shValues([after]);
    expect(parseParams(linux).filter((w) => w.key === "isolcpus" || w.key === "nohz_full")).toEqual(PARAMS);
    expect(grubDefault(after)).toBe(after);
  });

  test("already exactly once with the wanted value: nothing changes", () => {
    const content = 'GRUB_CMDLINE_LINUX="nohz_full=4-7 isolcpus=4-7" # set by hand\n';
    expect(grubDefault(content)).toBe(content);
  });

  const refused: [string, string, string][] = [
    [
      "command substitution in the value",
      'X=1\nGRUB_CMDLINE_LINUX="$(cat /etc/cmdline)"\n',
      "/etc/default/grub:2: GRUB_CMDLINE_LINUX's value depends on a command substitution $(…)",
    ],
    [
      "backquotes in the value",
      "GRUB_CMDLINE_LINUX=`cat /x`\n",
      "/etc/default/grub:1: GRUB_CMDLINE_LINUX's value depends on a command substitution `…`",
    ],
    [
      "unbalanced quotes",
      'A=1\nGRUB_CMDLINE_LINUX="quiet\nB=2\n',
      "/etc/default/grub:2: unbalanced double quote",
    ],
    [
      "a conditional assignment",
      '[ -x /y ] && GRUB_CMDLINE_LINUX="a"\n',
      "/etc/default/grub:1: GRUB_CMDLINE_LINUX is set or used in a command",
    ],
    [
      "inside if",
      'if true; then\n  GRUB_CMDLINE_LINUX="a"\nfi\n',
      "/etc/default/grub:2: GRUB_CMDLINE_LINUX is set or used inside a compound command",
    ],
    ["sourcing another file", ". /etc/default/grub.local\n", "/etc/default/grub:1: `.` can set any variable"],
    [
      "an expansion with a default",
      'GRUB_CMDLINE_LINUX="${X:-quiet}"\n',
      "/etc/default/grub:1: GRUB_CMDLINE_LINUX's value depends on the expansion ${X:-quiet}",
    ],
    ["a here-document", "cat <<EOF\nx\nEOF\n", "/etc/default/grub:1: a here-document"],
  ];
  test.each(refused)("refused: %s", (_name, content, message) => {
    expect(() => grubDefault(content)).toThrow(message);
  });
});

describe("one value per parameter across /etc/default/grub and grub.d", () => {
  const render = (params: { key: string; value?: string }[]) =>
    params.length
      ? `GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ${params.map((p) => `${p.key}=${p.value}`).join(" ")}"\n`
      : "";
  const SNIPPET = "/etc/default/grub.d/99-tickless.cfg";

  test("the operator's value in _DEFAULT and in another snippet are dropped; the snippet carries ours; exactly one each", () => {
    const sources: GrubSource[] = [
      { path: GRUB, content: 'GRUB_CMDLINE_LINUX_DEFAULT="quiet isolcpus=2"\nGRUB_CMDLINE_LINUX=""\n' },
      {
        path: "/etc/default/grub.d/50-local.cfg",
        content: 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX nohz_full=2 rcu_nocbs=2"\n',
      },
      { path: SNIPPET, content: "" },
    ];
    const files = planDefaults(sources, { path: SNIPPET, kind: "snippet", render }, PARAMS);
    expect(Object.fromEntries(files)).toEqual({
      [GRUB]: 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n',
      "/etc/default/grub.d/50-local.cfg": 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX rcu_nocbs=2"\n',
      [SNIPPET]: 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX isolcpus=4-7 nohz_full=4-7"\n',
    });
    const [linux, dflt] = shValues(sources.map((s) => files.get(s.path) ?? s.content));
    expect(`${linux} ${dflt}`.trim().split(/\s+/)).toEqual([
      "rcu_nocbs=2",
      "isolcpus=4-7",
      "nohz_full=4-7",
      "quiet",
    ]);
  });

  test("a value the operator already has exactly once stays in place; the snippet carries only the rest", () => {
    const sources: GrubSource[] = [
      { path: GRUB, content: 'GRUB_CMDLINE_LINUX="isolcpus=4-7"\n' },
      { path: SNIPPET, content: "" },
    ];
    const files = planDefaults(sources, { path: SNIPPET, kind: "snippet", render }, PARAMS);
    expect(Object.fromEntries(files)).toEqual({ [SNIPPET]: render([{ key: "nohz_full", value: "4-7" }]) });
  });

  test("grub_default: a later snippet that sets GRUB_CMDLINE_LINUX again is named", () => {
    const sources: GrubSource[] = [
      { path: GRUB, content: 'GRUB_CMDLINE_LINUX="quiet"\n' },
      { path: "/etc/default/grub.d/50-cloud.cfg", content: 'GRUB_CMDLINE_LINUX="console=ttyS0"\n' },
    ];
    expect(() => planDefaults(sources, { path: GRUB, kind: "assignment" }, PARAMS)).toThrow(
      /cannot give the kernel exactly one isolcpus=4-7: after the edit the defaults would give none/,
    );
  });
});

/** mulberry32: a small seeded PRNG, so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("randomized: sh reads exactly the intended words, and no byte outside the values moves", () => {
  const SEED = 20261206;
  const WORDS = [
    "quiet",
    "splash",
    "console=ttyS0,115200",
    "ro",
    "a=b=c",
    "x#y",
    "isolcpus=2",
    "isolcpus=4-7",
    "nohz_full=1",
    "nohz_full=4-7",
    "mitigations=off",
    "acpi_osi=!",
  ];

  /** One word written with random quoting. */
  function quoteWord(word: string, r: () => number): string {
    const mode = Math.floor(r() * 4);
    if (mode === 0) return `'${word}'`;
    if (mode === 1) return `"${word.replace(/[$`"\\]/g, "\\$&")}"`;
    if (mode === 2) return word.replace(/[#!'"\\$`]/g, "\\$&");
    const cut = Math.floor(r() * word.length);
    return `"${word.slice(0, cut)}"'${word.slice(cut)}'`;
  }

  function value(r: () => number, self: boolean): string {
    const n = Math.floor(r() * 5);
    const words = Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]);
    const whole = r() < 0.6;
    const ref = self && r() < 0.5 ? ["$GRUB_CMDLINE_LINUX"] : [];
    if (whole) {
      const q = r() < 0.5 ? '"' : "'";
      const body = [...(q === '"' ? ref : []), ...words].join(" ".repeat(1 + Math.floor(r() * 2)));
      return q === '"' ? `"${body.replace(/[`"\\]/g, "\\$&").replace(/\$(?!GRUB)/g, "\\$")}"` : `'${body}'`;
    }
    return [...ref.map((x) => `"${x}"`), ...words.map((w) => quoteWord(w, r))].join("\\ ");
  }

  function file(r: () => number): string {
    const lines: string[] = [];
    const n = 1 + Math.floor(r() * 6);
    for (let k = 0; k < n; k++) {
      const pick = r();
      const comment = r() < 0.4 ? ` # keep ${["console", "it's", '"x"', "$(y)"][Math.floor(r() * 4)]}` : "";
      if (pick < 0.35) lines.push(`GRUB_CMDLINE_LINUX=${value(r, true)}${comment}`);
      else if (pick < 0.55) lines.push(`GRUB_CMDLINE_LINUX_DEFAULT=${value(r, false)}${comment}`);
      else if (pick < 0.7) lines.push(`# GRUB_CMDLINE_LINUX="commented out isolcpus=9"`);
      else if (pick < 0.85) lines.push(`GRUB_TIMEOUT=${Math.floor(r() * 10)}${comment}`);
      else lines.push("");
    }
    return `${lines.join("\n")}${r() < 0.8 ? "\n" : ""}`;
  }

  /** The file with the values of the two variables cut out: what must not change. */
  function outside(content: string): { text: string; count: number } {
    const spans = parseShFile(content, ["GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"])
      .assignments.filter((a) => a.name.startsWith("GRUB_CMDLINE_LINUX"))
      .map((a) => [a.valueStart, a.valueEnd]);
    let out = content;
    for (const [s, e] of spans.reverse()) out = `${out.slice(0, s)}<value>${out.slice(e)}`;
    return { text: out, count: spans.length };
  }

  /** Bytes outside the values are the same; a file without GRUB_CMDLINE_LINUX got one line appended. */
  function sameOutside(before: string, after: string): boolean {
    const b = outside(before);
    const a = outside(after);
    if (a.text === b.text) return true;
    const appended = "GRUB_CMDLINE_LINUX=<value>\n";
    return (
      a.count === b.count + 1 &&
      !/^GRUB_CMDLINE_LINUX=/m.test(before) &&
      a.text === `${b.text}${b.text === "" || b.text.endsWith("\n") ? "" : "\n"}${appended}`
    );
  }

  const others = (v: string) => parseParams(v).filter((w) => w.key !== "isolcpus" && w.key !== "nohz_full");

  test("200 generated /etc/default/grub files", () => {
    const r = prng(SEED);
    for (let k = 0; k < 200; k++) {
      const before = file(r);
      const context = `case ${k} (seed ${SEED}):\n${before}`;
      const after = grubDefault(before);
      const [linux0, dflt0] = shValues([before]);
      const [linux1, dflt1] = shValues([after]);
      const keys = [...parseParams(linux1), ...parseParams(dflt1)].filter(
        (w) => w.key === "isolcpus" || w.key === "nohz_full",
      );
      expect(keys.map((w) => `${w.key}=${w.value}`).sort(), context).toEqual([
        "isolcpus=4-7",
        "nohz_full=4-7",
      ]);
      expect(parseParams(linux1).filter((w) => w.key === "isolcpus")).toHaveLength(1);
      expect(others(linux1), context).toEqual(others(linux0));
      expect(others(dflt1), context).toEqual(others(dflt0));
      expect(sameOutside(before, after), `${context}\n→\n${after}`).toBe(true);
      expect(grubDefault(after), context).toBe(after);
    }
  });
});
