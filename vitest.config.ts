import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The VM suite (real kernel, systemd, GRUB in qemu) has its own config: vitest.vm.config.ts.
    exclude: [...configDefaults.exclude, "test/vm/**"],
    globalSetup: ["test/lab/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
