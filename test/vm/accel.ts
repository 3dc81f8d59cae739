/**
 * Whether KVM can run the image's kernel here. An openable /dev/kvm is not enough: under some
 * nested virtualization layers a stock Debian kernel hangs early. The probe boots the image's
 * kernel with no root disk and `panic=-1`: if KVM works, the kernel reaches its "unable to mount
 * root" panic within seconds and qemu exits (-no-reboot). The answer is cached per host boot.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { VmImage } from "./image.js";

const PROBE_TIMEOUT_MS = 30_000;

export async function kvmWorks(image: VmImage): Promise<boolean> {
  const hostBoot = (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
  const cached = join(dirname(image.dir), `kvm-probe-${hostBoot}`);
  const known = await readFile(cached, "utf8").catch(() => undefined);
  if (known !== undefined) return known.trim() === "kvm";
  const works = await probe(image.kernel);
  await writeFile(cached, works ? "kvm\n" : "tcg\n");
  return works;
}

async function probe(kernel: string): Promise<boolean> {
  if (
    !(await access("/dev/kvm", constants.R_OK | constants.W_OK).then(
      () => true,
      () => false,
    ))
  )
    return false;
  const dir = await mkdtemp(join(tmpdir(), "tickless-kvm-probe-"));
  const log = join(dir, "console.log");
  try {
    const exited = await new Promise<boolean>((resolve) => {
      execFile(
        "qemu-system-x86_64",
        [
          "-accel",
          "kvm",
          "-m",
          "256",
          "-display",
          "none",
          "-monitor",
          "none",
          "-no-reboot",
          "-nic",
          "none",
        ].concat(["-serial", `file:${log}`, "-kernel", kernel, "-append", "console=ttyS0 panic=-1"]),
        { timeout: PROBE_TIMEOUT_MS, killSignal: "SIGKILL" },
        (err) => resolve(!err || !(err as { killed?: boolean }).killed),
      );
    });
    const text = await readFile(log, "utf8").catch(() => "");
    return exited && /Kernel panic|Unable to mount root/.test(text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
