import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { setFactModule } from "../../../src/modules/core/set_fact.js";
import { coreContext } from "../../support/module-context.js";

describe("set_fact", () => {
  it("returns its args as facts, without cacheable", async () => {
    const result = await setFactModule.run(
      { a: 1, b: { c: [1] }, cacheable: true },
      coreContext(),
      new LocalConnection(),
    );
    expect(result).toEqual({ facts: { a: 1, b: { c: [1] } } });
  });

  it("accepts any variable name, and only variable names", () => {
    const validate = new Ajv().compile(setFactModule.args);
    expect(validate({ redis_port: 6379, _x: "y" })).toBe(true);
    expect(validate({})).toBe(false);
    expect(validate({ "not-a-name": 1 })).toBe(false);
    expect(validate({ a: 1, cacheable: "yes" })).toBe(false);
  });
});
