/** Reporters by name, for --reporter and the library. */
import { JsonReporter } from "./json.js";
import { JunitReporter } from "./junit.js";
import { ListrReporter } from "./listr.js";
import { PlainReporter } from "./plain.js";
import type { ReporterFactory } from "./types.js";

export const REPORTERS = {
  plain: (o) => new PlainReporter(o),
  json: (o) => new JsonReporter(o),
  listr: (o) => new ListrReporter(o),
  junit: (o) => new JunitReporter(o),
} satisfies Record<string, ReporterFactory>;

export type ReporterName = keyof typeof REPORTERS;

export { formatChange, formatChanges } from "./diff.js";
export { JsonReporter } from "./json.js";
export { JunitReporter } from "./junit.js";
export { ListrReporter } from "./listr.js";
export { PlainReporter } from "./plain.js";
export { formatRecap } from "./recap.js";
export type { Reporter, ReporterFactory, ReporterOptions } from "./types.js";
