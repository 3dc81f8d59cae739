/** Package modules: apt, and package with apt as its backend. */
import type { Module } from "../types.js";
import { aptModule } from "./apt.js";
import { packageModule } from "./package.js";

export const PACKAGE_MODULES: readonly Module[] = [aptModule, packageModule];
