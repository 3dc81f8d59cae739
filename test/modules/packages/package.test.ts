/**
 * `package` picks its backend as Ansible's package action: `use`, else the `pkg_mgr` fact, else the
 * fact gathered from the host. Only read-only apt queries run here (apt-cache, dpkg-query); dnf's
 * side runs in test/e2e/compat-dnf.test.ts.
 */
import { describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { gatherFacts } from "../../../src/facts/gather.js";
import { packageModule } from "../../../src/modules/packages/package.js";
import { testContext } from "../../support/module-context.js";

const host = new LocalConnection();
const args = (written: Record<string, unknown>) => packageModule.normalize!(written as never);

describe("package", () => {
  it("fails on a host whose package manager is neither apt nor dnf, naming it", async () => {
    const ctx = testContext({ ansible_facts: { pkg_mgr: "zypper" } });
    await expect(packageModule.probe(host, args({ name: "redis" }), ctx, false)).rejects.toThrow(
      "the package module runs apt or dnf, and this host's package manager is zypper (ansible_pkg_mgr)",
    );
  });

  it("refuses on apt what only dnf takes, as Ansible's apt module does", async () => {
    const ctx = testContext({ ansible_facts: { pkg_mgr: "apt" } });
    await expect(
      packageModule.probe(host, args({ name: "redis", installroot: "/tmp/r" }), ctx, true),
    ).rejects.toThrow("Unsupported parameters for (apt) module: installroot");
    await expect(
      packageModule.probe(host, args({ name: "redis", state: "installed" }), ctx, true),
    ).rejects.toThrow(
      "value of state must be one of: absent, build-dep, latest, present, fixed, got: installed",
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
