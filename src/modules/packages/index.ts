/** Package modules: apt, package with apt as its backend, and pip. */
import type { Module } from "../types.js";
import { aptModule } from "./apt.js";
import { packageModule } from "./package.js";
import { pipModule } from "./pip.js";

export const PACKAGE_MODULES: readonly Module[] = [aptModule, packageModule, pipModule];
