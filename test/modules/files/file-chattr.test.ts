import { describe, expect, it } from "vitest";
import { type ChattrState, chattrChanges, chattrDiff } from "../../../src/modules/files/file-chattr.js";

const state = (flags: string | null, first = true, more: Partial<ChattrState> = {}): ChattrState => ({
  path: "/x",
  exists: true,
  flags,
  chattr: "/usr/bin/chattr",
  first,
  ...more,
});

describe("file attributes: the plan, as set_attributes_if_different decides", () => {
  it.each([
    // first probe: the flags read against the letters, as text; "-" always
    ["A", state(""), "=A"],
    ["A", state("A"), undefined],
    ["A", state("Ae"), "=A"],
    ["+A", state("A"), undefined],
    ["+A", state("Ae"), "+A"],
    ["-A", state(""), "-A"],
    ["", state(""), undefined],
    ["", state(null), undefined],
    ["A", state(null), "=A"],
    // after apply: the letters added are there, the removed ones gone (ext4 keeps its "e")
    ["A", state("Ae", false), undefined],
    ["+d", state("de", false), undefined],
    ["-A", state("e", false), undefined],
    ["-A", state("Ae", false), "-A"],
    ["A", state("e", false), "=A"],
    // nothing to do without chattr, for a path not there yet, or without the option
    ["A", state("", true, { chattr: null }), undefined],
    ["A", state(null, true, { exists: false }), undefined],
    [undefined, state(""), undefined],
  ] as [string | undefined, ChattrState, string | undefined][])("%j on %j → %j", (wanted, s, after) => {
    expect(chattrChanges(wanted, s)[0]?.after).toBe(after);
  });

  it("gives the diff's sides: the flags read (None when lsattr failed) and the flags asked for", () => {
    expect(chattrDiff(chattrChanges("+A", state("e")))).toEqual({
      before: { attributes: "e" },
      after: { attributes: "+A" },
    });
    expect(chattrDiff(chattrChanges("A", state(null)))).toEqual({
      before: { attributes: null },
      after: { attributes: "=A" },
    });
    expect(chattrDiff([])).toEqual({ before: {}, after: {} });
  });
});
