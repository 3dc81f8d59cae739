/** CPU isolation modules: kernel_cmdline, irq_affinity, systemd_dropin, reboot. */
import { irqAffinityModule } from "./irq_affinity.js";
import { kernelCmdlineModule } from "./kernel_cmdline.js";
import { systemdDropinModule } from "./systemd_dropin.js";
import type { Module } from "./types.js";

export const ISOLATION_MODULES: readonly Module[] = [
  kernelCmdlineModule,
  irqAffinityModule,
  systemdDropinModule,
];
