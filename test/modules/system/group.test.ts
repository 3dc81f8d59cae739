import { describe, expect, it } from "vitest";
import { type GroupArgs, groupCommand, parseGetent, planGroup } from "../../../src/modules/system/group.js";

const absent = { name: "app", exists: false };
const present = { name: "app", exists: true, gid: 1001 };

describe("group plan", () => {
  it.each([
    ["created", { name: "app" }, absent, ["create group"], "groupadd app"],
    [
      "created with a gid, system",
      { name: "app", gid: 900, system: true },
      absent,
      ["create group (gid 900)"],
      "groupadd -g 900 -r app",
    ],
    ["kept", { name: "app" }, present, [], undefined],
    ["kept with its gid", { name: "app", gid: 1001 }, present, [], undefined],
    [
      "gid changed, non_unique",
      { name: "app", gid: 7, non_unique: true },
      present,
      ["gid 1001 → 7"],
      "groupmod -g 7 -o app",
    ],
    ["removed", { name: "app", state: "absent" }, present, ["remove group"], "groupdel app"],
    ["already absent", { name: "app", state: "absent" }, absent, [], undefined],
  ] as const)("%s", (_name, args, state, summaries, command) => {
    expect(planGroup(args as GroupArgs, state).map((c) => c.summary)).toEqual(summaries);
    if (command) expect(groupCommand(args as GroupArgs, state)).toBe(command);
  });

  it("reads the gid from getent's line", () => {
    expect(parseGetent("app:x:1001:alice,bob\n")).toBe(1001);
    expect(parseGetent("")).toBeUndefined();
  });
});
