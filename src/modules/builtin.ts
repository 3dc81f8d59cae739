/** Every built-in module, in one list. */
import { CORE_MODULES } from "./core-builtin.js";
import { FILE_MODULES } from "./files-builtin.js";
import { ISOLATION_MODULES } from "./isolation-builtin.js";
import { REDIS_MODULES } from "./redis-builtin.js";
import type { Module } from "./types.js";

export const BUILTIN_MODULES: readonly Module[] = [
  ...FILE_MODULES,
  ...CORE_MODULES,
  ...ISOLATION_MODULES,
  ...REDIS_MODULES,
];
