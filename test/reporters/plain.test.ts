import { describe, expect, it } from "vitest";
import type { EngineEvent } from "../../src/engine/events.js";
import { PlainReporter } from "../../src/reporters/plain.js";
import { hostResult, sink, smallRun } from "./recorded.js";

function render(events: EngineEvent[], verbosity = 0) {
  const out = sink();
  const err = sink();
  const r = new PlainReporter({ stdout: out, stderr: err, verbosity });
  for (const e of events) r.onEvent(e);
  return { out: out.text(), err: err.text() };
}

describe("plain reporter", () => {
  it("prints Ansible-like banners and host lines", () => {
    const { out, err } = render(smallRun());
    const lines = out.split("\n");
    expect(lines).toContain(`PLAY [Tune] ${"*".repeat(68)}`);
    expect(lines.filter((l) => l.startsWith("TASK ["))).toHaveLength(5);
    for (const l of lines.filter((x) => /^(PLAY|TASK) /.test(x))) expect(l).toHaveLength(80);
    expect(lines).toContain("ok: [web1]");
    expect(lines).toContain("changed: [web1]");
    expect(lines).toContain("skipping: [db-primary-long-name-01]");
    expect(lines).toContain("ok: [web1] => (item=redis)");
    expect(lines).toContain("changed: [web1] => (item=jemalloc)");
    expect(out).toContain(
      'fatal: [web1]: FAILED! => {"changed": false, "msg": "non-zero return code", "rc": 1}\n...ignoring\n',
    );
    expect(lines).toContain(
      'fatal: [db-primary-long-name-01]: UNREACHABLE! => {"changed": false, "msg": "connect ECONNREFUSED"}',
    );
    expect(err).toBe("[WARNING]: [web1] something odd\n");
  });

  it("does not repeat the loop summary after the item lines", () => {
    const { out } = render(smallRun());
    const packages = out.split("TASK [Packages]")[1].split("TASK [")[0];
    expect(packages.trim().split("\n").slice(1)).toEqual([
      "ok: [web1] => (item=redis)",
      "changed: [web1] => (item=jemalloc)",
    ]);
  });

  it("prints failed loop items Ansible's way", () => {
    const { out } = render([hostResult("T", "h", "failed", { msg: "no" }, { item: "x" })]);
    expect(out).toBe('failed: [h] (item=x) => {"changed": false, "msg": "no"}\n');
  });

  it("aligns the recap columns", () => {
    const { out } = render(smallRun());
    const recap = out
      .split(`PLAY RECAP ${"*".repeat(69)}\n`)[1]
      .trim()
      .split("\n");
    expect(recap).toHaveLength(2);
    expect(recap[0]).toBe(
      "web1                       : ok=3    changed=2    unreachable=0    failed=1    skipped=0    rescued=0    ignored=1",
    );
    expect(recap[1].indexOf(":")).toBe(recap[0].indexOf(":"));
    expect(recap[1].indexOf("changed=")).toBe(recap[0].indexOf("changed="));
    expect(recap[1].indexOf("ignored=")).toBe(recap[0].indexOf("ignored="));
  });

  it("widens the host column for names longer than 26 characters", () => {
    const long = "a-very-long-host-name-that-exceeds.example.com";
    const z = { ok: 1, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
    const { out } = render([{ type: "recap", stats: { [long]: z, short: z }, rebootPending: [] }]);
    const [a, b] = out.trim().split("\n").slice(1);
    expect(a.indexOf(" : ")).toBe(long.length);
    expect(b.indexOf(" : ")).toBe(long.length);
  });

  it("ends a check run's recap with what was and what would be changed", () => {
    const z = { ok: 2, changed: 2, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
    const lines = (check: { wouldChange: number; changedForReal: number } | undefined) =>
      render([{ type: "recap", stats: { h: z }, check, rebootPending: [] }])
        .out.trim()
        .split("\n");
    expect(lines({ wouldChange: 2, changedForReal: 0 }).at(-1)).toBe(
      "check mode: nothing was changed; 2 changes would be made",
    );
    expect(lines({ wouldChange: 1, changedForReal: 1 }).at(-1)).toBe(
      "check mode: 1 change would be made; 1 change was made for real by tasks with check_mode: false",
    );
    expect(lines(undefined).at(-1)).toMatch(/^h +: ok=2/);
  });

  it("never leaves a pending reboot silent, in a real run and in a check run", () => {
    const z = { ok: 1, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
    const real = render([{ type: "recap", stats: { h1: z, h2: z }, rebootPending: ["h2"] }]).out;
    expect(real).toContain("reboot pending on 1 host: h2 (the new settings take effect at the next boot)\n");
    const check = { wouldChange: 2, changedForReal: 0 };
    const checked = render([
      { type: "recap", stats: { h1: z, h2: z }, check, rebootPending: ["h1", "h2"] },
    ]).out;
    expect(checked).toContain("reboot would be pending on 2 hosts: h1, h2\n");
    expect(render([{ type: "recap", stats: { h1: z }, rebootPending: [] }]).out).not.toContain("reboot");
  });

  it("shows results with -v and hides them without", () => {
    const events = [hostResult("T", "h", "ok", { stdout: "hello" })];
    expect(render(events).out).toBe("ok: [h]\n");
    expect(render(events, 1).out).toBe('ok: [h] => {"changed": false, "stdout": "hello"}\n');
  });

  it("prints unified diffs only when the event asks for them", () => {
    const { out } = render(smallRun());
    expect(out).toContain(
      "--- before: /etc/app.conf\n+++ after: /etc/app.conf\n@@ -1,2 +1,2 @@\n a=1\n-b=2\n+b=3\nchanged: [web1]\n",
    );
    const noDiff = render([
      hostResult("T", "h", "changed", { changes: [{ target: "/x", summary: "s", before: "1", after: "2" }] }),
    ]);
    expect(noDiff.out).toBe("changed: [h]\n");
  });

  it("prints a no_log result as censored and nothing of the secret", () => {
    const censored =
      "the output has been hidden due to the fact that 'no_log: true' was specified for this result";
    const { out } = render(
      [
        hostResult("Secret", "h", "failed", { censored }),
        hostResult("Secret", "h", "changed", { censored }, { item: "(censored due to no_log)" }),
      ],
      3,
    );
    expect(out).toContain(censored);
    expect(out).toContain("(item=(censored due to no_log))");
    // at -vvv laid out as Ansible's callback lays it out there: indented by 4
    expect(out).toMatch(/^fatal: \[h\]: FAILED! => \{\n {4}"censored": "the output has been hidden/m);
    expect(out).toMatch(/^changed: \[h\] => \(item=\(censored due to no_log\)\) => \{\n {4}"censored"/m);
  });
});
