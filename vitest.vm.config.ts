import { defineConfig } from "vitest/config";

/** The VM suite (test/vm/README.md): real kernel, systemd and GRUB in qemu; slow, so not in `npm test`. */
export default defineConfig({
  test: {
    include: ["test/vm/**/*.test.ts"],
    globalSetup: ["test/vm/global-setup.ts"],
    testTimeout: 20 * 60_000,
    hookTimeout: 25 * 60_000,
    pool: "forks",
    fileParallelism: false,
    // The VM tests skip themselves unless run through this config (the default one matches test/**).
    env: { TICKLESS_VM_SUITE: "1" },
  },
});
