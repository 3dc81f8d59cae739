/** Core modules: command, shell, assert, debug, set_fact, fail, meta, wait_for. */

import type { Module } from "../types.js";
import { assertModule } from "./assert.js";
import { commandModule } from "./command.js";
import { debugModule } from "./debug.js";
import { failModule } from "./fail.js";
import { metaModule } from "./meta.js";
import { setFactModule } from "./set_fact.js";
import { shellModule } from "./shell.js";
import { waitForModule } from "./wait_for.js";

export const CORE_MODULES: readonly Module[] = [
  commandModule,
  shellModule,
  assertModule,
  debugModule,
  setFactModule,
  failModule,
  metaModule,
  waitForModule,
];
