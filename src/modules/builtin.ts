/** Every built-in module, in one list. */
import { CORE_MODULES } from "./core/index.js";
import { FILE_MODULES } from "./files/index.js";
import { ISOLATION_MODULES } from "./isolation/index.js";
import { PACKAGE_MODULES } from "./packages/index.js";
import { REDIS_MODULES } from "./redis/index.js";
import { SYSTEM_MODULES } from "./system/index.js";
import type { Module } from "./types.js";

export const BUILTIN_MODULES: readonly Module[] = [
  ...FILE_MODULES,
  ...CORE_MODULES,
  ...SYSTEM_MODULES,
  ...PACKAGE_MODULES,
  ...ISOLATION_MODULES,
  ...REDIS_MODULES,
];
