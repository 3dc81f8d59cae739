/** The block `npm test` prints when the machine lacks what some suites need. */
import { describe, expect, it } from "vitest";
import { missingPartsReport } from "./global-setup.js";

describe("missing parts report", () => {
  it("is empty when everything is there", () => {
    expect(missingPartsReport(undefined, () => true)).toEqual([]);
  });

  it("names each skipped or failing group, why, and the command that installs their needs", () => {
    const report = missingPartsReport("sshd not found at /usr/sbin/sshd", (f) => !f.includes("redis"));
    const text = report.join("\n");
    expect(text).toContain("SSH lab suites (real sshd hosts in namespaces) are skipped: sshd not found");
    expect(text).toContain(
      "Redis suites (playbooks, latency runs, the A/B gate) fail: /usr/bin/redis-server, /usr/bin/redis-benchmark not found",
    );
    expect(text).not.toContain("parity suites");
    expect(report.at(-2)).toMatch(/: npm run test:all$/);
  });

  it("names systemd's directories, which a container or chroot lacks and the lab hosts need", () => {
    const text = missingPartsReport(undefined, (f) => !f.startsWith("/etc/")).join("\n");
    expect(text).toContain(
      "isolation playbook suites on the lab hosts fail: /etc/systemd/system, /etc/tmpfiles.d not found",
    );
  });
});
