/** CPU isolation modules: kernel_cmdline, irq_affinity, systemd_dropin, reboot. */
import type { Module } from "./types.js";

export const ISOLATION_MODULES: readonly Module[] = [];
