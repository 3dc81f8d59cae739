import { describe, expect, it } from "vitest";
import { keepalive, keepaliveLost } from "../../src/connection/keepalive.js";

const settings = (unreachableTimeoutMs?: number) => ({
  host: "h",
  transport: "ssh" as const,
  unreachableTimeoutMs,
});

describe("SSH keepalives for the unreachable bound", () => {
  it("sends one every quarter of the bound, 3 unanswered allowed (60 s by default)", () => {
    expect(keepalive(settings())).toEqual({ keepaliveInterval: 15_000, keepaliveCountMax: 3 });
    expect(keepalive(settings(6_000))).toEqual({ keepaliveInterval: 1_500, keepaliveCountMax: 3 });
  });

  it("says what was seen for ssh2's keepalive timeout only", () => {
    const timeout = Object.assign(new Error("Keepalive timeout"), { level: "client-timeout" });
    expect(keepaliveLost(timeout, settings(6_000))).toBe(
      "no answer to SSH keepalives within 6 s (tickless_unreachable_timeout)",
    );
    expect(keepaliveLost(new Error("read ECONNRESET"), settings())).toBeUndefined();
  });
});
