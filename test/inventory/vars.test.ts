import { describe, expect, it } from "vitest";
import {
  inventoryVars,
  loadInventory,
  magicVars,
  resolveVars,
  type VarLayers,
} from "../../src/inventory/index.js";
import { lines } from "../support/fs.js";

/** The documented order, lowest first: each layer must beat every layer before it. */
const ORDER: (keyof VarLayers)[] = [
  "roleDefaults",
  "inventory",
  "facts",
  "play",
  "playVarsFiles",
  "roleVars",
  "blocks",
  "task",
  "includedVars",
  "registered",
  "roleParams",
  "include",
  "extra",
  "magic",
];

function layer(name: keyof VarLayers, value: Record<string, unknown>): VarLayers {
  return name === "blocks" ? { blocks: [value] } : { [name]: value };
}

describe("resolveVars", () => {
  const pairs = ORDER.flatMap((low, i) => ORDER.slice(i + 1).map((high) => [low, high] as const));
  it.each(pairs)("%s < %s", (low, high) => {
    const vars = resolveVars({ ...layer(low, { x: low, [low]: 1 }), ...layer(high, { x: high }) });
    expect(vars).toEqual({ x: high, [low]: 1 });
  });

  it("applies block vars outer to inner", () => {
    expect(resolveVars({ blocks: [{ x: "outer", o: 1 }, { x: "inner" }] })).toEqual({ x: "inner", o: 1 });
  });

  it("replaces dictionaries whole, like Ansible's hash_behaviour=replace", () => {
    expect(resolveVars({ play: { d: { a: 1, b: 2 } }, task: { d: { a: 9 } } })).toEqual({ d: { a: 9 } });
  });

  it("does not let extra vars fake inventory_hostname", () => {
    const vars = resolveVars({
      extra: { inventory_hostname: "evil", e: 1 },
      magic: { inventory_hostname: "h1" },
    });
    expect(vars).toEqual({ inventory_hostname: "h1", e: 1 });
  });
});

describe("inventoryVars", () => {
  const INV = lines(
    "all:",
    "  vars: {x: all, a: 1}",
    "  children:",
    "    outer:",
    "      vars: {x: outer, o: 1}",
    "      children:",
    "        inner:",
    "          vars: {x: inner}",
    "          hosts: {h1: , h2: {x: host}}",
    "    b_peer:",
    "      vars: {x: b_peer}",
    "      hosts: {h3: }",
    "    a_peer:",
    "      vars: {x: a_peer}",
    "      hosts: {h3: }",
    "    prio_a:",
    "      vars: {x: prio_a, ansible_group_priority: 10}",
    "      hosts: {h4: }",
    "    prio_b:",
    "      vars: {x: prio_b}",
    "      hosts: {h4: }",
    "    shallow:",
    "      vars: {x: shallow}",
    "      hosts: {h5: }",
    "    deep_parent:",
    "      children:",
    "        deep:",
    "          vars: {x: deep}",
    "          hosts: {h5: }",
  );

  const CASES: [host: string, expected: Record<string, unknown>][] = [
    ["h1", { x: "inner", a: 1, o: 1 }],
    ["h2", { x: "host", a: 1, o: 1 }],
    ["h3", { x: "b_peer", a: 1 }],
    ["h4", { x: "prio_a", a: 1 }],
    ["h5", { x: "deep", a: 1 }],
  ];
  it.each(CASES)("%s", async (host, expected) => {
    const inv = await loadInventory({ yaml: INV });
    expect(inventoryVars(inv, host)).toEqual(expected);
  });

  it("gives the implicit localhost the `all` vars and a local connection", async () => {
    const inv = await loadInventory({ yaml: INV });
    expect(inventoryVars(inv, "localhost")).toEqual({ x: "all", a: 1, ansible_connection: "local" });
  });

  it("rejects a host that is not in the inventory", async () => {
    const inv = await loadInventory({ yaml: INV });
    expect(() => inventoryVars(inv, "nope")).toThrowError(expect.objectContaining({ code: "INVENTORY" }));
  });
});

describe("magicVars", () => {
  it("describes the host, its groups and the run", async () => {
    const inv = await loadInventory({
      yaml: lines(
        "all:",
        "  hosts: {solo.lan: }",
        "  children:",
        "    web:",
        "      children: {front: {hosts: {w1.example.com: }}}",
      ),
    });
    const magic = magicVars(inv, "w1.example.com", {
      playbookDir: "/pb",
      check: true,
      playHosts: ["w1.example.com"],
    });
    expect(magic).toEqual({
      inventory_hostname: "w1.example.com",
      inventory_hostname_short: "w1",
      group_names: ["front", "web"],
      groups: {
        all: ["solo.lan", "w1.example.com"],
        ungrouped: ["solo.lan"],
        web: ["w1.example.com"],
        front: ["w1.example.com"],
      },
      ansible_check_mode: true,
      ansible_play_hosts: ["w1.example.com"],
      ansible_play_hosts_all: ["w1.example.com"],
      omit: expect.stringMatching(/^__omit_place_holder__[0-9a-f]{40}$/),
      playbook_dir: "/pb",
    });
    expect(magicVars(inv, "solo.lan", {}).group_names).toEqual(["ungrouped"]);
  });
});
