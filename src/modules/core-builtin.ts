/** Core modules: command, shell, assert, debug, set_fact, fail, meta, systemd, sysctl, wait_for. */
import type { Module } from "./types.js";

export const CORE_MODULES: readonly Module[] = [];
