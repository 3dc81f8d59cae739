import { describe, expect, it } from "vitest";
import { classify, rollbackReport } from "../../../src/modules/isolation/rollback_report.js";

describe("rollback_report (pure)", () => {
  it.each([
    ["restored", "restored", ""],
    ["already clean", "already clean", ""],
    ["already clean (no restart needed)", "already clean", "no restart needed"],
    [
      "reboot pending: the running kernel keeps the parameters",
      "reboot pending",
      "the running kernel keeps the parameters",
    ],
    ["kept: applied.json stays", "kept", "applied.json stays"],
    ["could not restore: remove x: EROFS", "could not restore", "remove x: EROFS"],
  ])("%s", (outcome, status, detail) => {
    expect(classify({ part: "p", outcome })).toEqual({ part: "p", status, detail });
  });

  it("refuses an outcome it does not know, naming the part and the words it takes", () => {
    expect(() => classify({ part: "hft.slice", outcome: "restord" })).toThrow(
      /part "hft.slice" has the outcome "restord"/,
    );
    expect(() => classify({ part: "hft.slice", outcome: "restoredx" })).toThrow(/restoredx/);
  });

  it("passes when every part is restored or clean, one aligned line a part", () => {
    const r = rollbackReport({
      parts: [
        { part: "kernel command line (GRUB)", outcome: "restored" },
        { part: "hft.slice", outcome: "already clean" },
      ],
    });
    expect(r.failed).toBeUndefined();
    expect(r.msg).toBe(
      "rollback complete\nkernel command line (GRUB)  restored\nhft.slice                   already clean",
    );
  });

  it("fails naming every part that could not be restored, and still lists the others", () => {
    const r = rollbackReport({
      parts: [
        { part: "systemd drop-ins", outcome: "could not restore: remove the drop-ins: read-only" },
        { part: "hft.slice", outcome: "restored" },
        { part: "workqueue", outcome: "could not restore: restore: not valid" },
        { part: "tuning record", outcome: "kept: stays" },
      ],
    });
    expect(r.failed).toBe(true);
    expect(r.not_restored).toEqual(["systemd drop-ins", "workqueue"]);
    expect(String(r.msg).split("\n")).toEqual([
      "rollback incomplete: systemd drop-ins, workqueue could not be restored (the rest was)",
      "systemd drop-ins  could not restore: remove the drop-ins: read-only",
      "hft.slice         restored",
      "workqueue         could not restore: restore: not valid",
      "tuning record     kept: stays",
    ]);
  });
});
