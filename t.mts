import { evaluate } from "./src/template/expression.ts";
for (const e of process.argv.slice(2)) { try { console.log(e, '=>', JSON.stringify(evaluate(e, {x: 'a b', d: {a:1}}))); } catch (err) { console.log(e, 'ERR', (err as Error).message); } }
