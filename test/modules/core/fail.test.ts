import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { failModule } from "../../../src/modules/core/fail.js";
import { coreContext } from "../../support/module-context.js";

describe("fail", () => {
  const host = new LocalConnection();
  it("fails with the message, or Ansible's default", async () => {
    expect(await failModule.run({ msg: "kernel too old" }, coreContext(), host)).toEqual({
      failed: true,
      msg: "kernel too old",
    });
    expect(await failModule.run({}, coreContext(), host)).toEqual({
      failed: true,
      msg: "Failed as requested from task",
    });
  });

  it("validates its args", () => {
    const validate = new Ajv().compile(failModule.args);
    expect(validate({ msg: "x" })).toBe(true);
    expect(validate({ message: "x" })).toBe(false);
  });
});
