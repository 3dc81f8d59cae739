/** The example inventories shipped under inventory/ load and mean what their comments say. */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { connectionSettings, inventoryVars, loadInventory, selectHosts } from "../../src/inventory/index.js";

const root = fileURLToPath(new URL("../../inventory/", import.meta.url));

describe("example inventories", () => {
  it("localhost.yml runs locally", async () => {
    const inv = await loadInventory(`${root}localhost.yml`);
    expect(selectHosts(inv, "all")).toEqual(["localhost"]);
    expect(connectionSettings("localhost", inventoryVars(inv, "localhost"))).toEqual({
      host: "localhost",
      transport: "local",
      address: "localhost",
    });
  });

  it("lab.example.yml has three ssh hosts on loopback ports 2201-2203", async () => {
    const inv = await loadInventory(`${root}lab.example.yml`);
    const hosts = selectHosts(inv, "lab");
    expect(hosts).toEqual(["lab1", "lab2", "lab3"]);
    const settings = hosts.map((h) => connectionSettings(h, inventoryVars(inv, h)));
    expect(settings.map((s) => [s.transport, s.address, s.port])).toEqual([
      ["ssh", "127.0.0.1", 2201],
      ["ssh", "127.0.0.1", 2202],
      ["ssh", "127.0.0.1", 2203],
    ]);
    expect(settings[0].privateKeyFile).toMatch(/\/\.ssh\/tickless_lab$/);
  });

  it("production.example/ has trading and redis groups with group_vars and host_vars", async () => {
    const inv = await loadInventory(`${root}production.example`);
    expect(selectHosts(inv, "trading")).toEqual([
      "match01.prod.example.com",
      "match02.prod.example.com",
      "gw01.prod.example.com",
    ]);
    expect(selectHosts(inv, "redis")).toEqual(["redis01.prod.example.com"]);
    expect(inventoryVars(inv, "match02.prod.example.com").isolated_cpus).toBe(4);
    expect(inventoryVars(inv, "match01.prod.example.com").isolated_cpus).toBe(6);
    expect(inventoryVars(inv, "redis01.prod.example.com").isolated_cpus).toBe(2);
    const gw = connectionSettings("gw01.prod.example.com", inventoryVars(inv, "gw01.prod.example.com"));
    expect(gw).toMatchObject({
      transport: "ssh",
      address: "10.20.1.11",
      user: "deploy",
      become: true,
      hostKeyChecking: "strict",
    });
  });
});
