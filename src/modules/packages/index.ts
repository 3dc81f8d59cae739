/** Package modules: apt, dnf (and yum, which runs dnf), package with apt or dnf as its backend, and pip. */
import type { Module } from "../types.js";
import { aptModule } from "./apt.js";
import { dnfModule } from "./dnf.js";
import { packageModule } from "./package.js";
import { pipModule } from "./pip.js";
import { yumModule } from "./yum.js";

export const PACKAGE_MODULES: readonly Module[] = [aptModule, dnfModule, yumModule, packageModule, pipModule];
