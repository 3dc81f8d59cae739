/** jemalloc/Redis build and latency modules: redis_latency, perf_gate, … */
import type { Module } from "./types.js";

export const REDIS_MODULES: readonly Module[] = [];
