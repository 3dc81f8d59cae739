/** Every per-module state file carries `version`: none reads as 1, an unknown one is refused naming the file. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { formatError } from "../../../src/errors.js";
import { irqAffinityModule } from "../../../src/modules/isolation/irq_affinity.js";
import { kernelCmdlineModule } from "../../../src/modules/isolation/kernel_cmdline.js";
import { sysfsModule } from "../../../src/modules/isolation/sysfs.js";
import { checkStateVersion } from "../../../src/modules/util/state-version.js";
import { hashTree } from "../../e2e/helpers.js";
import { writeIrqFixture } from "../../lab/irq-fixture.js";
import { checkPlan, scratchDir } from "../harness.js";

test("checkStateVersion: no version is 1; a known one passes; others and non-objects are refused with the path", () => {
  expect(checkStateVersion({ files: {} }, "/s.json")).toBe(1);
  expect(checkStateVersion({ version: 1 }, "/s.json")).toBe(1);
  expect(() => checkStateVersion({ version: 2 }, "/s.json")).toThrow(
    "/s.json has state file version 2; this tickless reads version 1",
  );
  expect(() => checkStateVersion({ version: "1" }, "/s.json")).toThrow('/s.json has state file version "1"');
  expect(() => checkStateVersion([], "/s.json")).toThrow("/s.json is not a tickless state file");
});

describe("the isolation modules' state files", () => {
  const host = new LocalConnection();
  let dir: string;
  let cleanup: () => Promise<void>;
  const stateFile = (name: string) => join(dir, "var/lib/tickless", name);
  beforeEach(async () => {
    ({ dir, cleanup } = await scratchDir());
    await mkdir(join(dir, "var/lib/tickless"), { recursive: true });
    await mkdir(join(dir, "sys/devices/virtual/workqueue"), { recursive: true });
    await writeFile(join(dir, "sys/devices/virtual/workqueue/cpumask"), "ef\n");
    await mkdir(join(dir, "etc/default"), { recursive: true });
    await writeFile(join(dir, "etc/default/grub"), 'GRUB_CMDLINE_LINUX="quiet"\n');
    await writeIrqFixture(join(dir, "proc"));
    await writeFile(join(dir, "proc/cmdline"), "ro quiet\n");
  });
  afterEach(() => cleanup());

  const cases = () =>
    [
      [
        "sysfs.json",
        sysfsModule,
        {
          path: "devices/virtual/workqueue/cpumask",
          format: "cpumask",
          state: "restored",
          sys_root: join(dir, "sys"),
          state_file: stateFile("sysfs.json"),
        },
        { originals: { [join(dir, "sys/devices/virtual/workqueue/cpumask")]: "ff" } },
      ],
      [
        "kernel-cmdline.json",
        kernelCmdlineModule,
        {
          params: { isolcpus: 4 },
          state: "restored",
          snippet: join(dir, "etc/default/grub.d/99-tickless.cfg"),
          grub_cfg: join(dir, "boot/grub/grub.cfg"),
          proc_root: join(dir, "proc"),
          state_file: stateFile("kernel-cmdline.json"),
        },
        { files: {} },
      ],
      [
        "irq-affinity.json",
        irqAffinityModule,
        {
          state: "restored",
          save_file: stateFile("irq-affinity.json"),
          irqbalance_config: join(dir, "etc/default/irqbalance"),
          proc_root: join(dir, "proc"),
        },
        { irqs: {}, unchangeable: {} },
      ],
    ] as const;

  test("a file without version reads as version 1", async () => {
    for (const [name, module, args, body] of cases()) {
      await writeFile(stateFile(name), JSON.stringify(body));
      await expect(checkPlan(module as never, args as never, host), name).resolves.toBeInstanceOf(Array);
    }
  });

  test("an unknown version fails the probe naming the file, nothing changed", async () => {
    for (const [name, module, args, body] of cases()) {
      await writeFile(stateFile(name), JSON.stringify({ ...body, version: 9 }));
      const before = await hashTree(dir);
      const message = await checkPlan(module as never, args as never, host).then(
        () => "no error",
        (e) => formatError(e),
      );
      expect(message, name).toContain(
        `${stateFile(name)} has state file version 9; this tickless reads version 1`,
      );
      expect(await hashTree(dir)).toEqual(before);
    }
  });
});
