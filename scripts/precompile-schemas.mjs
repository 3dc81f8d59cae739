// Build step after tsc (npm run build): precompiles the playbook schema and the built-in modules'
// args schemas into dist/playbook/schema/precompiled/<key>.cjs (see src/playbook/schema/validators.ts).
import { fileURLToPath } from "node:url";

const dist = new URL("../dist/", import.meta.url);
const { writePrecompiled } = await import(new URL("playbook/schema/precompile.js", dist).href);
writePrecompiled(fileURLToPath(new URL("playbook/schema/", dist)));
