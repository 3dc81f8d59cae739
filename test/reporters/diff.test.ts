import { describe, expect, it } from "vitest";
import { formatChange, formatChanges } from "../../src/reporters/diff.js";

describe("diff", () => {
  it("formats a change as a unified diff with before/after headers", () => {
    const text = formatChange({
      target: "/etc/sysctl.d/90.conf",
      summary: "edit",
      before: "a\nb\n",
      after: "a\nc\n",
    });
    expect(text).toBe(
      "--- before: /etc/sysctl.d/90.conf\n+++ after: /etc/sysctl.d/90.conf\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n",
    );
  });

  it("diffs a created file against nothing", () => {
    const text = formatChange({ target: "/x", summary: "create", after: "new" });
    expect(text.split("\n").slice(0, 4)).toEqual([
      "--- before: /x",
      "+++ after: /x",
      "@@ -0,0 +1,1 @@",
      "+new",
    ]);
  });

  it("falls back to the summary when there is no before/after", () => {
    expect(formatChanges([{ target: "redis:state", summary: "start service" }])).toBe(
      "redis:state: start service\n",
    );
  });

  it("names the target once when the summary already holds it", () => {
    expect(formatChanges([{ target: "echo hi", summary: "run: echo hi" }])).toBe("run: echo hi\n");
  });
});
