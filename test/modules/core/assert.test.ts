import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { TicklessError } from "../../../src/errors.js";
import { assertModule } from "../../../src/modules/core/assert.js";
import { evaluate } from "../../../src/template/index.js";
import { coreContext } from "../../support/module-context.js";

const host = new LocalConnection();
const vars = { x: 1, name: "redis", ports: [6379], empty: [], result: { rc: 0, stdout: "ok" } };
const ctx = coreContext(vars, async (expression) => evaluate(expression, vars));

describe("assert", () => {
  it("passes when every condition holds", async () => {
    const result = await assertModule.run(
      { that: ["x == 1", "name == 'redis'", "result.rc == 0", true] },
      ctx,
      host,
    );
    // shown without -v unless quiet, as Ansible's assert action marks it
    expect(result).toEqual({ msg: "All assertions passed", _ansible_verbose_always: true });
  });

  it("fails with the first failing condition", async () => {
    const result = await assertModule.run({ that: ["x == 1", "x == 2", "name == 'nope'"] }, ctx, host);
    expect(result).toMatchObject({ failed: true, msg: "Assertion failed", assertion: "x == 2" });
  });

  it("uses Python truthiness (an empty list is false)", async () => {
    expect((await assertModule.run({ that: "ports" }, ctx, host)).failed).toBeUndefined();
    expect((await assertModule.run({ that: "empty" }, ctx, host)).msg).toBe("Assertion failed");
  });

  it("uses fail_msg, msg and success_msg", async () => {
    expect(await assertModule.run({ that: "x == 2", fail_msg: "x must be 2" }, ctx, host)).toMatchObject({
      failed: true,
      msg: "x must be 2",
    });
    expect((await assertModule.run({ that: "x == 2", msg: "old style" }, ctx, host)).msg).toBe("old style");
    expect((await assertModule.run({ that: "x == 1", success_msg: "fine" }, ctx, host)).msg).toBe("fine");
  });

  it("lets an undefined variable surface as a located error", async () => {
    await expect(assertModule.run({ that: "missing == 1" }, ctx, host)).rejects.toBeInstanceOf(TicklessError);
  });

  it("validates its args", () => {
    const validate = new Ajv().compile(assertModule.args);
    expect(validate({ that: "x == 1" })).toBe(true);
    expect(validate({ that: ["x == 1", true], quiet: true })).toBe(true);
    expect(validate({ that: [] })).toBe(false);
    expect(validate({ msg: "no that" })).toBe(false);
    expect(validate({ that: "x", fail_message: "typo" })).toBe(false);
  });
});
