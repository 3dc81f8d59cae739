import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inventoryVars, loadInventory, selectHosts } from "../../src/inventory/index.js";
import { lines, testdir } from "../support/fs.js";

const NESTED = lines(
  "all:",
  "  vars: {level: all}",
  "  hosts:",
  "    solo:",
  "  children:",
  "    trading:",
  "      vars: {level: trading}",
  "      children:",
  "        matching:",
  "          hosts:",
  "            m1: {role: match}",
  "            m2:",
  "        gateways:",
  "          hosts:",
  "            g1:",
  "            m1: {gw: true}",
  "    redis:",
  "      hosts:",
  "        r1:",
);

describe("loadInventory: YAML structure", () => {
  it("reads hosts, nested groups, a host in several groups, and ungrouped", async () => {
    const inv = await loadInventory({ yaml: NESTED });
    expect([...inv.hosts.keys()]).toEqual(["solo", "m1", "m2", "g1", "r1"]);
    expect(inv.hosts.get("m1")!.groups).toEqual(["matching", "gateways"]);
    expect(inv.hosts.get("m1")!.vars).toEqual({ role: "match", gw: true });
    expect(inv.groups.get("trading")!.children).toEqual(["matching", "gateways"]);
    expect(inv.groups.get("matching")!.parents).toEqual(["trading"]);
    expect(inv.groups.get("all")!.children).toEqual(["trading", "redis", "ungrouped"]);
    expect(inv.groups.get("ungrouped")!.hosts).toEqual(["solo"]);
    expect(inv.hosts.get("solo")!.groups).toEqual(["all", "ungrouped"]);
  });

  it("makes top-level groups other than all children of all", async () => {
    const inv = await loadInventory({ yaml: lines("web:", "  hosts:", "    w1:", "db:", "  hosts: {d1: }") });
    expect(inv.groups.get("web")!.parents).toEqual(["all"]);
    expect(selectHosts(inv, "all")).toEqual(["w1", "d1"]);
  });

  it("expands host ranges and host:port", async () => {
    const inv = await loadInventory({
      yaml: lines(
        "all:",
        "  hosts:",
        "    web[08:10]:",
        "    db-[a:c]:",
        "    n[0:10:5].x:",
        "    box:2222:",
      ),
    });
    expect([...inv.hosts.keys()]).toEqual([
      "web08",
      "web09",
      "web10",
      "db-a",
      "db-b",
      "db-c",
      "n0.x",
      "n5.x",
      "n10.x",
      "box",
    ]);
    expect(inv.hosts.get("box")!.vars).toEqual({ ansible_port: 2222 });
  });

  it("reads YAML 1.1 scalars as Ansible does", async () => {
    const inv = await loadInventory({ yaml: lines("all:", "  vars: {a: yes, b: off, mode: 0644, y: y}") });
    expect(inv.groups.get("all")!.vars).toEqual({ a: true, b: false, mode: 420, y: "y" });
  });

  it("treats an empty file as an empty inventory", async () => {
    const inv = await loadInventory({ yaml: "# nothing\n" });
    expect(inv.hosts.size).toBe(0);
    expect([...inv.groups.keys()]).toEqual(["all", "ungrouped"]);
  });
});

describe("loadInventory: sources", () => {
  it("reads a host list, with ports", async () => {
    const inv = await loadInventory("web1, web2:2200,localhost,");
    expect([...inv.hosts.keys()]).toEqual(["web1", "web2", "localhost"]);
    expect(inv.hosts.get("web2")!.vars).toEqual({ ansible_port: 2200 });
    expect(inv.groups.get("ungrouped")!.hosts).toEqual(["web1", "web2", "localhost"]);
  });

  it("merges several sources, later vars winning", async () => {
    const dir = await testdir({
      "a.yml": lines("all:", "  hosts:", "    h1: {x: 1, y: 1}"),
      "b.yml": lines("web:", "  hosts:", "    h1: {y: 2}", "    h2:"),
    });
    const inv = await loadInventory([join(dir, "a.yml"), join(dir, "b.yml"), "h3,"]);
    expect([...inv.hosts.keys()]).toEqual(["h1", "h2", "h3"]);
    expect(inv.hosts.get("h1")!.vars).toEqual({ x: 1, y: 2 });
    expect(inv.hosts.get("h1")!.groups).toEqual(["all", "web"]);
    expect(inv.groups.get("ungrouped")!.hosts).toEqual(["h3"]);
    expect(inv.file).toBe(join(dir, "a.yml"));
  });

  it("accepts a directory holding hosts.yml", async () => {
    const dir = await testdir({
      "hosts.yml": lines("all:", "  hosts:", "    h1:"),
      "group_vars/all.yml": "x: 1\n",
    });
    const inv = await loadInventory(dir);
    expect(inv.file).toBe(join(dir, "hosts.yml"));
    expect(inventoryVars(inv, "h1")).toEqual({ x: 1 });
  });
});

describe("loadInventory: group_vars and host_vars", () => {
  it("reads NAME.yml, NAME.yaml, NAME and NAME/ directories, files overriding inline vars", async () => {
    const dir = await testdir({
      "hosts.yml": lines(
        "all:",
        "  vars: {inline: all, a: inline}",
        "  children:",
        "    web:",
        "      vars: {w: inline}",
        "      hosts:",
        "        w1: {h: inline, keep: 1}",
        "    db:",
        "      hosts: {d1: }",
      ),
      "group_vars/all.yml": "a: file\n",
      "group_vars/web.yaml": "w: yaml-ext\nfrom_yaml: 1\n",
      "group_vars/db/10-first.yml": "order: first\nd: 1\n",
      "group_vars/db/20-second.yml": "order: second\n",
      "group_vars/db/sub/30-third.yaml": "third: 3\n",
      "group_vars/db/notes.txt": "not: read\n",
      "group_vars/unknown.yml": "ignored: true\n",
      "host_vars/w1.yml": "h: file\n",
    });
    const inv = await loadInventory(join(dir, "hosts.yml"));
    expect(inv.groups.get("all")!.vars).toEqual({ inline: "all", a: "file" });
    expect(inv.groups.get("web")!.vars).toEqual({ w: "yaml-ext", from_yaml: 1 });
    expect(inv.groups.get("db")!.vars).toEqual({ order: "second", d: 1, third: 3 });
    expect(inv.hosts.get("w1")!.vars).toEqual({ h: "file", keep: 1 });
    expect(inv.groups.has("unknown")).toBe(false);
  });

  it("reads a plain NAME file and merges NAME, NAME.json, NAME.yaml, NAME.yml in that order", async () => {
    const dir = await testdir({
      "hosts.yml": lines("web:", "  hosts: {w1: }"),
      "group_vars/web": "v: plain\nplain: 1\n",
      "group_vars/web.json": '{"v": "json", "json": 1}',
      "group_vars/web.yml": "v: yml\n",
    });
    const inv = await loadInventory(join(dir, "hosts.yml"));
    expect(inv.groups.get("web")!.vars).toEqual({ v: "yml", plain: 1, json: 1 });
  });

  it("lets the playbook directory's group_vars/host_vars override the inventory's", async () => {
    const dir = await testdir({
      "inv/hosts.yml": lines("all:", "  hosts: {h1: }"),
      "inv/group_vars/all.yml": "x: inventory\ny: inventory\n",
      "inv/host_vars/h1.yml": "hv: inventory\n",
      "play/group_vars/all.yml": "x: playbook\n",
      "play/host_vars/h1/main.yml": "hv: playbook\n",
    });
    const inv = await loadInventory(join(dir, "inv/hosts.yml"), { playbookDir: join(dir, "play") });
    expect(inventoryVars(inv, "h1")).toEqual({ x: "playbook", y: "inventory", hv: "playbook" });
  });

  it("gives host_vars/localhost.yml to the implicit localhost, which `all` does not match", async () => {
    const dir = await testdir({
      "hosts.yml": lines("all:", "  hosts: {h1: }"),
      "host_vars/localhost.yml": "lv: 1\n",
    });
    const inv = await loadInventory(join(dir, "hosts.yml"));
    expect(selectHosts(inv, "all")).toEqual(["h1"]);
    expect(selectHosts(inv, "localhost")).toEqual(["localhost"]);
    expect(inventoryVars(inv, "localhost")).toEqual({ ansible_connection: "local", lv: 1 });
  });

  it("reads group_vars beside a YAML string given with a file name", async () => {
    const dir = await testdir({ "group_vars/all.yml": "x: 1\n" });
    const inv = await loadInventory({ yaml: lines("all:", "  hosts: {h1: }"), file: join(dir, "mem.yml") });
    expect(inventoryVars(inv, "h1")).toEqual({ x: 1 });
  });
});
