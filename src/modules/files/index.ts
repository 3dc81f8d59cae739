/** File modules: copy, template, file, lineinfile, blockinfile, stat. */

import type { Module } from "../types.js";
import { blockinfile } from "./blockinfile.js";
import { copy } from "./copy.js";
import { file } from "./file.js";
import { lineinfile } from "./lineinfile.js";
import { stat } from "./stat.js";
import { template } from "./template.js";

export const FILE_MODULES: readonly Module[] = [copy, template, file, lineinfile, blockinfile, stat];
