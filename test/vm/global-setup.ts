import { ensureImage } from "./image.js";

/** Builds (or finds in the cache) the VM image once per run, before any VM test file starts. */
export default async function setup(): Promise<void> {
  const t0 = Date.now();
  const image = await ensureImage({ log: (line) => console.log(`[vm image] ${line}`) });
  const t = image.timings;
  console.log(
    image.built
      ? `[vm image] built in ${Math.round((Date.now() - t0) / 1000)} s (debootstrap ${t.debootstrap} s, disk image ${t.image} s, first boot + grub-install ${t.firstboot} s): ${image.dir}`
      : `[vm image] cached: ${image.dir}`,
  );
}
