/** File modules: copy, template, file, lineinfile, blockinfile, stat. */
import type { Module } from "./types.js";

export const FILE_MODULES: readonly Module[] = [];
