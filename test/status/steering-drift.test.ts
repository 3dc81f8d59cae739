/**
 * Packet steering on day two, on a lab host of its own (real sshd, fixture /proc/irq and sys_root
 * with a NIC's queues, no systemd, no boot loader: grub.cfg from the grub-mkconfig fixture):
 * isolation.yml takes the isolated CPU out of every queue's rps_cpus and xps_cpus, a mask set by
 * hand to ff afterwards (a NIC tuning guide's "RPS on every CPU") is `steering` drift naming the
 * queue (exit 2), isolation.yml repairs it and status is clean again (exit 0); a play told to leave
 * the masks (`steering_off_isolated=false`) records so, and status does not judge them.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type DayTwoHost, HOST_SYS, hasSshd, startDayTwoHost } from "./day-two-host.js";

const NET = `${HOST_SYS}/class/net`;
const QUEUES = `${NET}/eth0/queues`;

describe.skipIf(!hasSshd)("packet steering drift and its repair on a tuned lab host", () => {
  let host: DayTwoHost;
  const sh = (cmd: string) => host.sh(cmd);
  const masks = () =>
    sh(`cat ${QUEUES}/rx-0/rps_cpus ${QUEUES}/rx-1/rps_cpus ${QUEUES}/tx-0/xps_cpus ${QUEUES}/tx-1/xps_cpus`);

  beforeAll(async () => {
    host = await startDayTwoHost("steer");
    // eth0 with two queue pairs (RPS off on rx-0, on CPUs 4-7 on rx-1; XPS one CPU pair a queue),
    // lo with one: its xps_cpus reads ENOENT (a dangling link here), as the kernel's does
    await sh(
      [
        `mkdir -p ${QUEUES}/rx-0 ${QUEUES}/rx-1 ${QUEUES}/tx-0 ${QUEUES}/tx-1 ${NET}/lo/queues/rx-0 ${NET}/lo/queues/tx-0`,
        `echo 00 > ${QUEUES}/rx-0/rps_cpus && echo f0 > ${QUEUES}/rx-1/rps_cpus`,
        `echo 11 > ${QUEUES}/tx-0/xps_cpus && echo 22 > ${QUEUES}/tx-1/xps_cpus`,
        `echo 00 > ${NET}/lo/queues/rx-0/rps_cpus && ln -s /nonexistent/xps_cpus ${NET}/lo/queues/tx-0/xps_cpus`,
      ].join(" && "),
    );
  });
  afterAll(async () => {
    await host?.stop();
  });

  test("a queue mask set to ff by hand after the play is steering drift naming the queue and the isolated CPU (exit 2); isolation.yml takes it out again (exit 0); with steering_off_isolated=false the record says so and the masks are not judged", async () => {
    await host.isolation();
    expect(await masks()).toBe("00\ne0\n01\n22\n");
    await host.boot();
    const clean = await host.status();
    expect([clean.code, clean.host.drift]).toEqual([0, []]);
    const record = JSON.parse(await sh("cat /var/lib/tickless/applied.json"));
    expect(record.settings.steering).toEqual({ off_isolated: true, net_path: NET });

    // RPS on every CPU for rx-0, and tx-1 sending from CPU 4 too
    await sh(`echo ff > ${QUEUES}/rx-0/rps_cpus && echo 32 > ${QUEUES}/tx-1/xps_cpus`);
    const drifted = await host.status();
    expect(drifted.code).toBe(2);
    expect(drifted.host.reboot_pending).toBe(false);
    expect(drifted.host.drift).toEqual([
      { check: "steering", detail: "eth0 rx-0 rps_cpus ff (CPU 4), eth0 tx-1 xps_cpus 32 (CPU 4)" },
    ]);
    expect(drifted.line).toMatch(
      /^steer .* {2}DRIFT: steering \(eth0 rx-0 rps_cpus ff \(CPU 4\), eth0 tx-1 xps_cpus 32 \(CPU 4\)\)\n$/,
    );

    // the repair: isolation.yml with the record's CPU sets
    await host.isolation({
      isolated_cpus: record.settings.isolated_cpus,
      housekeeping_cpus: record.settings.housekeeping_cpus,
    });
    expect(await masks()).toBe("ef\ne0\n01\n22\n");
    const repaired = await host.status();
    expect([repaired.code, repaired.host.drift]).toEqual([0, []]);

    // a play told to leave the masks: recorded, and a mask on CPU 4 is then no drift
    await sh(`echo ff > ${QUEUES}/rx-0/rps_cpus`);
    await host.isolation({ steering_off_isolated: false });
    expect(await masks()).toBe("ff\ne0\n01\n22\n");
    expect(JSON.parse(await sh("cat /var/lib/tickless/applied.json")).settings.steering).toEqual({
      off_isolated: false,
      net_path: NET,
    });
    const left = await host.status();
    expect([left.code, left.host.drift]).toEqual([0, []]);
  }, 240_000);
});
