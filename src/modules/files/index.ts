/** File modules: copy, template, file, lineinfile, blockinfile, stat, tempfile. */

import type { Module } from "../types.js";
import { blockinfileModule } from "./blockinfile.js";
import { copyModule } from "./copy.js";
import { fileModule } from "./file.js";
import { lineinfileModule } from "./lineinfile.js";
import { statModule } from "./stat.js";
import { tempfileModule } from "./tempfile.js";
import { templateModule } from "./template.js";

export const FILE_MODULES: readonly Module[] = [
  copyModule,
  templateModule,
  fileModule,
  lineinfileModule,
  blockinfileModule,
  statModule,
  tempfileModule,
];
