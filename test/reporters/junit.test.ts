import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JunitReporter } from "../../src/reporters/junit.js";
import { sink, smallRun } from "./recorded.js";

/** Parses XML with Python's ElementTree (a real, strict parser) and returns the tree as JSON. */
function parseXml(file: string): any {
  const script = `
import json, sys, xml.etree.ElementTree as ET
def conv(e):
    return {"tag": e.tag, "attrs": dict(e.attrib), "text": (e.text or "").strip(), "children": [conv(c) for c in e]}
print(json.dumps(conv(ET.parse(sys.argv[1]).getroot())))
`;
  const r = spawnSync("python3", ["-c", script, file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`not well-formed XML: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("junit reporter", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-junit-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes well-formed, escaped XML: a suite per play, a case per task × host", async () => {
    const file = join(dir, "reports", "junit.xml");
    const r = new JunitReporter({ stdout: sink(), stderr: sink(), file });
    for (const e of smallRun()) r.onEvent(e);
    await r.close();
    const root = parseXml(file);
    expect(root.tag).toBe("testsuites");
    expect(root.children).toHaveLength(1);
    const suite = root.children[0];
    expect(suite.attrs).toMatchObject({ name: "Tune", tests: "8", failures: "1", errors: "1", skipped: "1" });
    const names = suite.children.map((c: any) => c.attrs.name);
    expect(names).toContain("[web1] Gather");
    expect(names).toContain('[web1] Check <xml> & "quotes"');
    const failed = suite.children.find((c: any) => c.attrs.name === '[web1] Check <xml> & "quotes"');
    expect(failed.children[0].tag).toBe("failure");
    expect(failed.children[0].attrs.message).toBe("bad <value> &  'x'");
    const unreachable = suite.children.find((c: any) =>
      c.attrs.name.startsWith("[db-primary-long-name-01] Check"),
    );
    expect(unreachable.children[0].tag).toBe("error");
    const ignored = suite.children.find((c: any) => c.attrs.name === "[web1] Maybe");
    expect(ignored.children).toHaveLength(0);
    const text = await readFile(file, "utf8");
    expect(text).toContain("&lt;xml&gt; &amp; &quot;quotes&quot;");
    expect(await readdir(join(dir, "reports"))).toEqual(["junit.xml"]);
  });

  it("carries a check run's summary as properties of each suite", async () => {
    const file = join(dir, "check.xml");
    const r = new JunitReporter({ stdout: sink(), stderr: sink(), file });
    for (const e of smallRun()) {
      r.onEvent(
        e.type === "recap"
          ? { ...e, check: { wouldChange: 3, changedForReal: 0 }, rebootPending: ["web1"] }
          : e,
      );
    }
    await r.close();
    const suite = parseXml(file).children[0];
    expect(suite.children[0].tag).toBe("properties");
    const props = Object.fromEntries(
      suite.children[0].children.map((p: any) => [p.attrs.name, p.attrs.value]),
    );
    expect(props).toEqual({
      check_mode: "true",
      would_change: "3",
      changed_for_real: "0",
      reboot_pending: "web1",
    });
  });

  it("counts a loop once per host, not once per item", async () => {
    const file = join(dir, "j.xml");
    const r = new JunitReporter({ stdout: sink(), stderr: sink(), file });
    for (const e of smallRun()) r.onEvent(e);
    await r.close();
    const suite = parseXml(file).children[0];
    expect(suite.children.filter((c: any) => c.attrs.name === "[web1] Packages")).toHaveLength(1);
  });
});
