import { describe, expect, it } from "vitest";
import { TicklessError } from "../../../src/errors.js";
import { resolveMode } from "../../../src/modules/files/mode.js";

describe("resolveMode", () => {
  it.each([
    ["0644", undefined, false, "0644"],
    ["644", undefined, false, "0644"],
    ["1777", undefined, true, "1777"],
    [420, undefined, false, "0644"], // YAML 1.1 reads unquoted 0644 as 420
    [0o755, undefined, true, "0755"],
    [644, undefined, false, "1204"], // unquoted 644 is decimal, as in Ansible
    ["u=rw,g=r,o=r", "0777", false, "0644"],
    ["u+x", "0644", false, "0744"],
    ["go-w", "0666", false, "0644"],
    ["a+X", "0644", false, "0644"],
    ["a+X", "0744", false, "0755"],
    ["a+X", "0600", true, "0711"],
    ["+x", "0644", false, "0755"],
    ["u=rwx,g=rx,o=", undefined, true, "0750"],
    ["g=u", "0700", false, "0770"],
    ["u+s", "0755", false, "4755"],
    ["o+t", "0777", true, "1777"],
    ["u=rw", undefined, false, "0644"],
    ["o-r", undefined, true, "0751"],
  ] as const)("%s on %s (dir %s) → %s", (mode, current, isDir, want) => {
    expect(resolveMode(mode, current, isDir)).toBe(want);
  });

  it.each(["0999", "rwx", "u*x", "", "z+x", 70000, -1, 1.5])("rejects %s with a hint", (mode) => {
    const err = (() => {
      try {
        resolveMode(mode, "0644");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TicklessError);
    expect((err as TicklessError).code).toBe("MODULE_ARGS");
    expect((err as TicklessError).hint).toContain('"0644"');
  });
});
