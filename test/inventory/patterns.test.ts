import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { limitHosts, loadInventory, selectHosts } from "../../src/inventory/index.js";
import { lines, testdir } from "../support/fs.js";
import { CASES, PATTERN_INVENTORY } from "./pattern-cases.js";

describe("selectHosts", () => {
  it.each(CASES)("%s", async (pattern, expected) => {
    const inv = await loadInventory({ yaml: PATTERN_INVENTORY });
    expect(selectHosts(inv, pattern)).toEqual(expected);
  });

  it("returns the implicit localhost only when named, with a local connection", async () => {
    const inv = await loadInventory({ yaml: PATTERN_INVENTORY });
    expect(selectHosts(inv, "all")).not.toContain("localhost");
    expect(selectHosts(inv, "localhost:web")).toEqual(["w1", "w2", "w3", "localhost"]);
    expect(inv.hosts.get("localhost")).toMatchObject({ groups: [], vars: { ansible_connection: "local" } });
    expect(selectHosts(inv, "all")).not.toContain("localhost");
    expect(selectHosts(inv, "127.0.0.1")).toEqual(["127.0.0.1"]);
  });

  it("uses a localhost that the inventory has, without adding a connection", async () => {
    const inv = await loadInventory("localhost,");
    expect(selectHosts(inv, "all")).toEqual(["localhost"]);
    expect(inv.hosts.get("localhost")!.vars).toEqual({});
  });

  it("rejects a bad regex with a PATTERN error and a hint", async () => {
    const inv = await loadInventory({ yaml: PATTERN_INVENTORY });
    expect(() => selectHosts(inv, "~web(")).toThrowError(
      expect.objectContaining({ code: "PATTERN", hint: expect.stringContaining("regular expression") }),
    );
  });
});

describe("limitHosts", () => {
  it("intersects with --limit, keeping the play's order", async () => {
    const inv = await loadInventory({ yaml: PATTERN_INVENTORY });
    const play = ["w3", "w1", "db1", "w2"];
    expect(limitHosts(inv, play)).toEqual(play);
    expect(limitHosts(inv, play, "web")).toEqual(["w3", "w1", "w2"]);
    expect(limitHosts(inv, play, "all:!w1")).toEqual(["w3", "db1", "w2"]);
    expect(limitHosts(inv, play, "nothing")).toEqual([]);
  });

  it("reads host names from @FILE", async () => {
    const dir = await testdir({ retry: lines("w1", "", "# comment", "  db1  ") });
    const inv = await loadInventory({ yaml: PATTERN_INVENTORY });
    expect(limitHosts(inv, ["w1", "w2", "db1"], `@${join(dir, "retry")}`)).toEqual(["w1", "db1"]);
    expect(limitHosts(inv, ["w1", "w2", "db1"], `@${join(dir, "retry")},w2`)).toEqual(["w1", "w2", "db1"]);
    expect(() => limitHosts(inv, ["w1"], `@${join(dir, "missing")}`)).toThrowError(
      expect.objectContaining({ code: "FILE_NOT_FOUND", location: { file: join(dir, "missing") } }),
    );
  });
});
