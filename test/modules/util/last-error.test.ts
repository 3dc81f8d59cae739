/** The last probe error a wait's message carries: one line, capped, exit code first, secrets masked. */
import { describe, expect, it } from "vitest";
import {
  capOneLine,
  LAST_ERROR_MAX,
  lastProbeError,
  maskSecrets,
  withLastError,
} from "../../../src/modules/util/last-error.js";

describe("lastProbeError", () => {
  it("puts the exit code before the probe's stderr, on one line", () => {
    expect(
      lastProbeError({ rc: 1, stderr: "bash: connect: Connection refused\n\nline 2\n", stdout: "x" }),
    ).toBe("exit 1: bash: connect: Connection refused | line 2");
    expect(lastProbeError({ rc: 124, stderr: "", stdout: "" })).toBe("exit 124");
    // no stderr: a module's msg, then stdout
    expect(lastProbeError({ rc: 2, msg: "non-zero return code", stdout: "out" })).toBe(
      "exit 2: non-zero return code",
    );
    expect(lastProbeError({ rc: 0, stdout: "LOADING\n" })).toBe("exit 0: LOADING");
    expect(lastProbeError(new Error("connect ECONNREFUSED 127.0.0.1:22"))).toBe(
      "connect ECONNREFUSED 127.0.0.1:22",
    );
    expect(lastProbeError(undefined)).toBe("none");
    expect(lastProbeError("  ")).toBe("none");
  });

  it("keeps the end of a long output, where the error is, within the cap", () => {
    const long = `${"noise ".repeat(200)}the real cause`;
    const text = lastProbeError({ rc: 3, stderr: long });
    expect(text.startsWith("exit 3: …")).toBe(true);
    expect(text.endsWith("the real cause")).toBe(true);
    expect(text.length).toBe("exit 3: ".length + LAST_ERROR_MAX);
    expect(capOneLine("a\nb", 10)).toBe("a | b");
  });

  it("masks what looks like a secret, and the values it is given", () => {
    expect(maskSecrets("requirepass hunter22 and masterauth=s3cr3t")).toBe(
      "requirepass ******** and masterauth=********",
    );
    expect(maskSecrets("redis-cli -a 'pw 1' PING; password: 'x y'")).toBe(
      "redis-cli -a ******** PING; password: ********",
    );
    expect(maskSecrets("GET https://ops:tok3n@example.net/x")).toBe("GET https://ops:********@example.net/x");
    expect(maskSecrets("AUTH p4ss failed")).toBe("AUTH ******** failed");
    // ordinary words stay: "NOAUTH Authentication required", "(publickey,password)"
    expect(maskSecrets("NOAUTH Authentication required. Permission denied (publickey,password).")).toBe(
      "NOAUTH Authentication required. Permission denied (publickey,password).",
    );
    expect(
      lastProbeError({ rc: 1, stderr: "login as ops with Zx9-very-secret failed" }, ["Zx9-very-secret"]),
    ).toBe("exit 1: login as ops with ******** failed");
  });

  it("labels a probe that answered (exit 0) as the last answer, anything else as the last error", () => {
    expect(withLastError("timed out", { rc: 0, stdout: "starting" })).toBe(
      "timed out (last answer: exit 0: starting)",
    );
    expect(withLastError("timed out", { rc: 1, stderr: "refused" })).toBe(
      "timed out (last error: exit 1: refused)",
    );
    expect(withLastError("timed out", new Error("reset"))).toBe("timed out (last error: reset)");
  });
});
