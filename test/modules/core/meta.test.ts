import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { META_ACTIONS, metaModule } from "../../../src/modules/core/meta.js";
import { coreContext } from "../../support/module-context.js";

describe("meta", () => {
  it.each(META_ACTIONS)("names %s for the engine", async (action) => {
    expect(await metaModule.run({ action }, coreContext(), new LocalConnection())).toEqual({ meta: action });
  });

  it("takes its action free-form and rejects unknown ones", () => {
    expect(metaModule.freeForm).toBe("action");
    const validate = new Ajv().compile(metaModule.args);
    expect(validate({ action: "flush_handlers" })).toBe(true);
    expect(validate({ action: "reset_connection" })).toBe(false);
  });
});
