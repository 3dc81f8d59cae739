/** --junit FILE: a JUnit XML report (testsuite per play, testcase per task × host), written atomically. */
import { randomBytes } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { CheckSummary, EngineEvent, HostStatus } from "../engine/events.js";
import { formatResult, messageOf } from "./result.js";
import type { Reporter, ReporterOptions } from "./types.js";
import { escapeXml } from "./xml.js";

interface TestCase {
  name: string;
  status: HostStatus;
  seconds: number;
  message: string;
  details: string;
}

interface Suite {
  name: string;
  cases: TestCase[];
}

export class JunitReporter implements Reporter {
  private readonly file: string;
  private readonly suites: Suite[] = [];
  private taskStarted = Date.now();
  /** Failed loop items per host, folded into the task's testcase. */
  private itemFailures = new Map<string, string[]>();
  /** A check run's summary (from the recap), written as properties of every suite. */
  private check?: CheckSummary;
  /** Hosts waiting for a reboot (from the recap), a property of every suite. */
  private rebootPending: string[] = [];

  constructor(options: ReporterOptions) {
    if (!options.file) throw new Error("the junit reporter needs a file");
    this.file = options.file;
  }

  onEvent(event: EngineEvent): void {
    switch (event.type) {
      case "play_start": {
        const last = this.suites.at(-1);
        if (!(event.batch && event.batch > 1 && last?.name === event.play)) {
          this.suites.push({ name: event.play, cases: [] });
        }
        return;
      }
      case "recap":
        this.check = event.check;
        this.rebootPending = event.rebootPending;
        return;
      case "task_start":
        this.taskStarted = Date.now();
        this.itemFailures = new Map();
        return;
      case "host_result": {
        if (event.item !== undefined) {
          if (event.status === "failed") {
            const list = this.itemFailures.get(event.host) ?? [];
            list.push(`(item=${event.item}) ${formatResult(event.result)}`);
            this.itemFailures.set(event.host, list);
          }
          return;
        }
        const suite = this.currentSuite(event.play);
        const items = this.itemFailures.get(event.host) ?? [];
        suite.cases.push({
          name: `[${event.host}] ${event.task}`,
          status: event.ignored || event.result.ignored ? "ok" : event.status,
          seconds: (Date.now() - this.taskStarted) / 1000,
          message: messageOf(event.result) ?? event.status,
          details: [formatResult(event.result), ...items].join("\n"),
        });
        return;
      }
      default:
        return;
    }
  }

  async close(): Promise<void> {
    const dir = dirname(this.file);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${basename(this.file)}.${randomBytes(6).toString("hex")}.tmp`);
    await writeFile(tmp, this.render());
    await rename(tmp, this.file);
  }

  /** The report as XML text. */
  render(): string {
    const all = this.suites.flatMap((s) => s.cases);
    const lines = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="tickless" ${counts(all)}>`,
      ...this.suites.flatMap((s) => renderSuite(s, this.check, this.rebootPending)),
      "</testsuites>",
      "",
    ];
    return lines.join("\n");
  }

  private currentSuite(play: string): Suite {
    const last = this.suites.at(-1);
    if (last && last.name === play) return last;
    const suite = { name: play, cases: [] };
    this.suites.push(suite);
    return suite;
  }
}

function counts(cases: TestCase[]): string {
  const n = (s: HostStatus) => cases.filter((c) => c.status === s).length;
  const time = cases.reduce((t, c) => t + c.seconds, 0);
  return `tests="${cases.length}" failures="${n("failed")}" errors="${n("unreachable")}" skipped="${n("skipped") + n("unpredictable")}" time="${time.toFixed(3)}"`;
}

function renderSuite(suite: Suite, check: CheckSummary | undefined, rebootPending: string[]): string[] {
  const name = escapeXml(suite.name);
  const props: [string, string][] = [];
  if (check) {
    props.push(["check_mode", "true"], ["would_change", String(check.wouldChange)]);
    props.push(["changed_for_real", String(check.changedForReal)]);
    if (check.unpredictable?.length) props.push(["unpredictable", String(check.unpredictable.length)]);
  }
  if (rebootPending.length > 0) props.push(["reboot_pending", rebootPending.join(",")]);
  const properties =
    props.length === 0
      ? []
      : [
          "    <properties>",
          ...props.map(([k, v]) => `      <property name="${k}" value="${escapeXml(v)}"/>`),
          "    </properties>",
        ];
  return [
    `  <testsuite name="${name}" ${counts(suite.cases)}>`,
    ...properties,
    ...suite.cases.flatMap((c) => renderCase(name, c)),
    "  </testsuite>",
  ];
}

function renderCase(classname: string, c: TestCase): string[] {
  const open = `    <testcase classname="${classname}" name="${escapeXml(c.name)}" time="${c.seconds.toFixed(3)}"`;
  const message = escapeXml(c.message);
  switch (c.status) {
    case "failed":
      return [
        open + ">",
        `      <failure message="${message}" type="failed">${escapeXml(c.details)}</failure>`,
        "    </testcase>",
      ];
    case "unreachable":
      return [
        open + ">",
        `      <error message="${message}" type="unreachable">${escapeXml(c.details)}</error>`,
        "    </testcase>",
      ];
    case "skipped":
      return [open + ">", `      <skipped message="${message}"/>`, "    </testcase>"];
    case "unpredictable":
      return [open + ">", `      <skipped message="${message}" type="unpredictable"/>`, "    </testcase>"];
    default:
      return [`${open}/>`];
  }
}
