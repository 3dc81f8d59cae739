import { describe, expect, it } from "vitest";
import { JsonReporter } from "../../src/reporters/json.js";
import { sink, smallRun } from "./recorded.js";

describe("json reporter", () => {
  it("writes one parseable JSON object per event per line and nothing else", () => {
    const out = sink();
    const err = sink();
    const r = new JsonReporter({ stdout: out, stderr: err });
    const events = smallRun();
    for (const e of events) r.onEvent(e);
    const lines = out.text().split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(events.length);
    expect(lines.map((l) => JSON.parse(l))).toEqual(JSON.parse(JSON.stringify(events)));
    expect(err.text()).toBe("");
  });
});
