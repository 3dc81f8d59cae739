/** jemalloc/Redis build and latency modules. */

import type { Module } from "../types.js";
import { buildIdModule } from "./build_id.js";
import { heapProfileModule } from "./heap_profile.js";
import { intrinsicLatencyModule } from "./intrinsic_latency.js";
import { latencyReportModule } from "./latency_report.js";
import { perfGateModule } from "./perf_gate.js";
import { redisJemallocBgThreadModule } from "./redis_jemalloc_bg_thread.js";
import { redisLatencyModule } from "./redis_latency.js";
import { redisRestartModule } from "./redis_restart.js";
import { redisServerModule } from "./redis_server.js";
import { redisThreadsModule } from "./redis_threads.js";
import { releaseLinkModule } from "./release_link.js";
import { sourceArchiveModule } from "./source_archive.js";

export const REDIS_MODULES: readonly Module[] = [
  sourceArchiveModule,
  buildIdModule,
  releaseLinkModule,
  redisServerModule,
  redisRestartModule,
  redisThreadsModule,
  redisJemallocBgThreadModule,
  redisLatencyModule,
  intrinsicLatencyModule,
  perfGateModule,
  latencyReportModule,
  heapProfileModule,
];
