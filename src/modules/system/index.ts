/** System modules: systemd, sysctl, reboot, group, user. */
import type { Module } from "../types.js";
import { groupModule } from "./group.js";
import { rebootModule } from "./reboot.js";
import { sysctlModule } from "./sysctl.js";
import { systemdModule } from "./systemd.js";
import { userModule } from "./user.js";

export const SYSTEM_MODULES: readonly Module[] = [
  systemdModule,
  sysctlModule,
  rebootModule,
  groupModule,
  userModule,
];
