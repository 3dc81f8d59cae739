/**
 * `package` picks its backend as Ansible's package action: `use`, else the `pkg_mgr` fact, else the
 * fact gathered from the host. Only read-only apt queries run here (apt-cache, dpkg-query).
 */
import { describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { gatherFacts } from "../../../src/facts/gather.js";
import { packageModule } from "../../../src/modules/packages/package.js";
import { testContext } from "../../support/module-context.js";

const host = new LocalConnection();
const args = (written: Record<string, unknown>) => packageModule.normalize!(written as never);

describe("package", () => {
  it("fails on a host whose package manager is not apt, naming it", async () => {
    const ctx = testContext({ ansible_facts: { pkg_mgr: "dnf" } });
    await expect(packageModule.probe(host, args({ name: "redis" }), ctx, false)).rejects.toThrow(
      "the package module runs apt only, and this host's package manager is dnf (ansible_pkg_mgr)",
    );
  });

  it("gathers pkg_mgr when the play did not, and runs apt with it", async () => {
    expect((await gatherFacts(host)).pkg_mgr).toBe("apt");
    // no fact in the vars: the host says apt, and apt's own answer for an unknown name follows
    await expect(
      packageModule.probe(host, args({ name: "tickless-no-such-package" }), testContext(), true),
    ).rejects.toThrow("No package matching 'tickless-no-such-package' is available");
  });

  it("takes `use: apt` over the fact", async () => {
    const ctx = testContext({ ansible_facts: { pkg_mgr: "yum" } });
    const s = await packageModule.probe(
      host,
      args({ name: "tickless-no-such-package", state: "absent", use: "apt" }),
      ctx,
      true,
    );
    expect(packageModule.plan(args({ name: "tickless-no-such-package", state: "absent" }), s)).toEqual([]);
  });
});
