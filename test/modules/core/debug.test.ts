import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { debugModule } from "../../../src/modules/core/debug.js";
import { evaluate } from "../../../src/template/index.js";
import { coreContext } from "../../support/module-context.js";

const host = new LocalConnection();
const vars = { port: 6379, redis: { maxmemory: "2gb" } };
const ctx = coreContext(vars, async (expression) => evaluate(expression, vars));
/** Set on every shown result: the reporters print it without -v, as Ansible prints debug. */
const always = { _ansible_verbose_always: true };

describe("debug", () => {
  it("prints a message, Hello world! by default; a list or mapping stays one", async () => {
    expect(await debugModule.run({ msg: "hi" }, ctx, host)).toEqual({ msg: "hi", ...always });
    expect(await debugModule.run({}, ctx, host)).toEqual({ msg: "Hello world!", ...always });
    expect(await debugModule.run({ msg: ["a", 1] }, ctx, host)).toEqual({
      msg: ["a", 1],
      ...always,
    });
  });

  it("prints a variable's value under its name", async () => {
    expect(await debugModule.run({ var: "port" }, ctx, host)).toEqual({ port: 6379, ...always });
    expect(await debugModule.run({ var: "redis.maxmemory" }, ctx, host)).toEqual({
      "redis.maxmemory": "2gb",
      ...always,
    });
  });

  it("says when a variable is not defined, as Ansible does", async () => {
    expect(await debugModule.run({ var: "nope" }, ctx, host)).toEqual({
      nope: "VARIABLE IS NOT DEFINED!",
      ...always,
    });
  });

  it("is skipped below its verbosity", async () => {
    expect(await debugModule.run({ msg: "x", verbosity: 2 }, ctx, host)).toEqual({
      skipped: true,
      skipped_reason: "Verbosity threshold not met.",
    });
    const verbose = coreContext({ ansible_verbosity: 2 });
    expect(await debugModule.run({ msg: "x", verbosity: 2 }, verbose, host)).toEqual({ msg: "x", ...always });
  });

  it("validates its args", () => {
    const validate = new Ajv().compile(debugModule.args);
    expect(validate({ msg: { any: "thing" } })).toBe(true);
    expect(validate({ var: "x", verbosity: 1 })).toBe(true);
    expect(validate({ msg: "a", var: "x" })).toBe(false);
    expect(validate({ verbosity: -1 })).toBe(false);
  });
});
