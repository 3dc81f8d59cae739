/**
 * Core modules: command, shell, assert, debug, set_fact, fail, meta, wait_for, ping, pause,
 * include_vars, async_status, script, group_by, add_host.
 */

import type { Module } from "../types.js";
import { addHostModule } from "./add_host.js";
import { assertModule } from "./assert.js";
import { asyncStatusModule } from "./async_status.js";
import { commandModule } from "./command.js";
import { debugModule } from "./debug.js";
import { failModule } from "./fail.js";
import { groupByModule } from "./group_by.js";
import { includeVarsModule } from "./include_vars.js";
import { metaModule } from "./meta.js";
import { pauseModule } from "./pause.js";
import { pingModule } from "./ping.js";
import { scriptModule } from "./script.js";
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
  pingModule,
  pauseModule,
  includeVarsModule,
  asyncStatusModule,
  scriptModule,
  groupByModule,
  addHostModule,
];
