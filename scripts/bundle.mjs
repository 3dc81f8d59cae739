// Build step after tsc (npm run build): bundles the library's entry (dist/index.js) and the CLI's
// (dist/cli/main.js) with esbuild, over tsc's per-file output of the same names, their shared code in
// dist/chunks/. Node then loads a few files instead of ~250 ES modules (a resolve, a read and a
// compile each), which was most of tickless's start-up. tsc's other files stay in dist/ (the type
// declarations, and the per-file modules some benchmarks import). What stays outside the bundle is
// loaded when used: ssh2 and node-ssh (optional native code; the first SSH connect loads them), ajv
// (only when a schema has no precompiled validator), Vega and Vega-Lite (perf_gate's picture).
import { rmSync } from "node:fs";
import { build } from "esbuild";

const EXTERNAL = ["ssh2", "node-ssh", "ajv", "ajv-formats", "vega", "vega-lite"];

/**
 * Handlebars requires source-map (60 KB) at load time, for source maps of compiled templates that
 * tickless never asks for (no `srcName`); an empty module makes it use its own small SourceNode.
 */
const noSourceMap = {
  name: "no-source-map",
  setup(b) {
    b.onResolve({ filter: /^source-map$/ }, (args) =>
      /[\\/]handlebars[\\/]/.test(args.importer) ? { path: "source-map", namespace: "empty" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "empty" }, () => ({ contents: "module.exports = {};", loader: "js" }));
  },
};

rmSync("dist/chunks", { recursive: true, force: true });
await build({
  entryPoints: { index: "src/index.ts", "cli/main": "src/cli/main.ts" },
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: EXTERNAL,
  plugins: [noSourceMap],
  sourcemap: true,
  logLevel: "warning",
  // The bundled CommonJS dependencies (yaml, handlebars, jexl, …) call require() for Node's own modules.
  banner: { js: 'import { createRequire as __tickless_require } from "node:module";\nconst require = __tickless_require(import.meta.url);' },
});
