/** CPU isolation modules: cpu_sets, kernel_cmdline, irq_affinity, systemd_dropin, sysfs, net_queue_masks, cpu_power, validate_isolation, tuning_record, rollback_report. */

import type { Module } from "../types.js";
import { cpuPowerModule } from "./cpu_power.js";
import { cpuSetsModule } from "./cpu_sets.js";
import { irqAffinityModule } from "./irq_affinity.js";
import { kernelCmdlineModule } from "./kernel_cmdline.js";
import { netQueueMasksModule } from "./net_queue_masks.js";
import { rollbackReportModule } from "./rollback_report.js";
import { sysfsModule } from "./sysfs.js";
import { systemdDropinModule } from "./systemd_dropin.js";
import { tuningRecordModule } from "./tuning_record.js";
import { validateIsolationModule } from "./validate_isolation.js";

export const ISOLATION_MODULES: readonly Module[] = [
  cpuSetsModule,
  kernelCmdlineModule,
  irqAffinityModule,
  systemdDropinModule,
  sysfsModule,
  netQueueMasksModule,
  cpuPowerModule,
  validateIsolationModule,
  tuningRecordModule,
  rollbackReportModule,
];
