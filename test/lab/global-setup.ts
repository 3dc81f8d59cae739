import type { TestProject } from "vitest/node";
import { type LabDescription, startLab } from "./lab.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared lab of 3 hosts, or why it could not start. */
    lab: { description?: LabDescription; error?: string };
  }
}

/** Starts one lab of 3 hosts per run (about 0.2 s) and hands its description to tests via `inject("lab")`. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    const lab = await startLab(3);
    const { kill: _kill, stop, ...description } = lab;
    project.provide("lab", { description });
    return stop;
  } catch (err) {
    project.provide("lab", { error: err instanceof Error ? err.message : String(err) });
    return async () => {};
  }
}
