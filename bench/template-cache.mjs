// Template and expression cache: the engine renders the same strings for every host, so a cached
// render must cost a small fraction of a first (compiling) one. Baseline: the same renders with a
// distinct string each time, so every call compiles. Run after `npm run build`:
//   node bench/template-cache.mjs [calls=10000]
const dist = process.env.TICKLESS_DIST ?? new URL("../dist/index.js", import.meta.url).href;
const { renderString, evaluateCondition } = await import(
  new URL("template/index.js", new URL(".", dist)).href
);

const CALLS = Number(process.argv[2] ?? 10_000);
const vars = {
  base: "/srv",
  inventory_hostname: "h1",
  root: "{{ base }}/{{ inventory_hostname }}",
  port: 6379,
  result: { rc: 0, changed: true },
};

function time(fn) {
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) fn(i);
  return performance.now() - start;
}

const cachedRender = time(() => renderString("{{ root }}/redis-{{ port }}.conf", vars));
const freshRender = time((i) => renderString(`{{ root }}/redis-{{ port }}-${i}.conf`, vars));
const cachedCond = time(() => evaluateCondition("result.rc == 0 and result is changed", vars));
const freshCond = time((i) => evaluateCondition(`result.rc == 0 and result is changed and ${i} > -1`, vars));

const row = (name, cached, fresh) =>
  console.log(
    `${name}: ${((cached * 1000) / CALLS).toFixed(2)} µs cached, ${((fresh * 1000) / CALLS).toFixed(2)} µs compiling; ratio cached/compiling ${(cached / fresh).toFixed(3)}`,
  );
console.log(`${CALLS} calls each`);
row("render", cachedRender, freshRender);
row("condition", cachedCond, freshCond);
console.log("baseline: the same calls with a distinct string each time (every call compiles)");
