import { describe, expect, it } from "vitest";
import { evaluate, evaluateCondition, renderString, renderValue } from "../../src/template/index.js";

// Loose bounds: the engine renders the same strings for every host, so cached calls must be cheap.
describe("cached rendering and evaluation are fast", () => {
  const vars = {
    base: "/srv",
    inventory_hostname: "h1",
    root: "{{ base }}/{{ inventory_hostname }}",
    port: 6379,
    result: { rc: 0, changed: true },
  };

  it("10,000 small renders take well under a second", () => {
    expect(renderString("{{ root }}/redis-{{ port }}.conf", vars)).toBe("/srv/h1/redis-6379.conf");
    const start = performance.now();
    for (let i = 0; i < 10_000; i++) renderString("{{ root }}/redis-{{ port }}.conf", vars);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it("10,000 native renders and conditions take well under a second", () => {
    const start = performance.now();
    for (let i = 0; i < 10_000; i++) {
      renderValue("{{ port }}", vars);
      evaluateCondition("result.rc == 0 and result is changed and missing is not defined", vars);
    }
    expect(performance.now() - start).toBeLessThan(1000);
    expect(evaluate("port|string ~ '/' ~ root", vars)).toBe("6379//srv/h1");
  });
});
