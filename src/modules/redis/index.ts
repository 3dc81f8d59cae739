/** jemalloc/Redis build and latency modules. */

import type { Module } from "../types.js";
import { buildIdModule } from "./build_id.js";
import { perfGate } from "./perf_gate.js";
import { redisLatency } from "./redis_latency.js";
import { redisRestart } from "./redis_restart.js";
import { redisServer } from "./redis_server.js";
import { redisThreads } from "./redis_threads.js";
import { releaseLink } from "./release_link.js";
import { sourceArchive } from "./source_archive.js";

export const REDIS_MODULES: readonly Module[] = [
  sourceArchive,
  buildIdModule,
  releaseLink,
  redisServer,
  redisRestart,
  redisThreads,
  redisLatency,
  perfGate,
];
