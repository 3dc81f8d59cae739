/**
 * `net_queue_masks`: receive and transmit packet steering (RPS, XPS) kept off the isolated CPUs.
 * Every queue of every interface under `<sys_root>/class/net` (or of `devices`) has a mask:
 * `queues/rx-N/rps_cpus` (the CPUs that process the packets the queue receives, 0 = RPS off: the
 * CPU of the IRQ does) and `queues/tx-N/xps_cpus` (the CPUs whose sends use this queue). Each
 * mask that holds an isolated CPU loses it; the others are left as they are (a mask of 0 stays 0:
 * RPS is never turned on where it was off, and a mask of only isolated CPUs becomes 0).
 *
 * A queue whose mask cannot be read is skipped and named: `xps_cpus` of a device with one transmit
 * queue (lo, a virtio NIC without multiqueue) reads ENOENT, which is expected; any other error is a
 * warning (`unsupported`). Every original is saved in `state_file` (mode 0600, atomic) before the
 * first write and never overwritten, so `state: restored` writes back the bytes the kernel showed
 * before tickless; a queue that vanished since (the NIC removed) is named and dropped. All writes go
 * in one round trip (tee: the kernel's errno text); a refused write fails the task naming each
 * queue, with the originals of those written already saved.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { applyOriginals, originalsText, parseOriginals } from "../util/originals-file.js";
import { cpuListToMask, formatCpuList, maskToCpuList, parseCpuList } from "./cpus.js";
import { errnoText, writeAll } from "./irq-proc.js";

export interface NetQueueMasksArgs {
  /** The isolated CPUs (required for `state: present`). */
  isolated?: string | number | number[];
  /** Interface names; every one under class/net when unset. */
  devices?: string[];
  state?: "present" | "restored";
  sys_root?: string;
  state_file?: string;
}

/** The saved originals: absolute path of the mask file → its text as the kernel showed it (no newline). */
export interface NetQueueSave {
  version: 1;
  originals: Record<string, string>;
  /** Queues whose new mask the kernel refused as unsupported (ENOENT, EINVAL, EOPNOTSUPP): path → errno text. */
  refused?: Record<string, string>;
}

/** One queue's mask file as read: its text, or the errno text of the read. */
export interface QueueMask {
  path: string;
  value?: string;
  error?: string;
}

export interface NetQueueState {
  queues: QueueMask[];
  stateFile: { path: string; exists: boolean; content: string; data?: NetQueueSave };
}

export const DEFAULT_NET_QUEUES_STATE_FILE = "/var/lib/tickless/net-queues.json";

export function netQueueSettings(args: NetQueueMasksArgs) {
  return {
    state: args.state ?? "present",
    isolated: args.isolated === undefined ? [] : parseCpuList(args.isolated),
    sysRoot: posix.normalize(args.sys_root ?? "/sys").replace(/(.)\/+$/, "$1"),
    stateFile: args.state_file ?? DEFAULT_NET_QUEUES_STATE_FILE,
  };
}

/**
 * Reads every queue mask (of `devices`, or the given `paths`: a restore reads exactly what it
 * saved): `@@ok<TAB>path<TAB>text` or `@@err<TAB>path<TAB>cat's error line`.
 */
export function probeScript(sysRoot: string, devices?: string[], paths?: string[]): string {
  const net = `${quote([sysRoot])}/class/net`;
  const dirs = devices ? devices.map((d) => `${net}/${quote([d])}`) : [`${net}/*`];
  const files = paths
    ? paths.map((p) => quote([p])).join(" ")
    : dirs.map((d) => `${d}/queues/rx-*/rps_cpus ${d}/queues/tx-*/xps_cpus`).join(" ");
  return [
    `for f in ${files}; do`,
    // a pattern that matched nothing stays as written; a dangling name is read (and reports ENOENT)
    '  [ -e "$f" ] || [ -L "$f" ] || continue',
    `  if v=$(cat -- "$f" 2>&1); then printf '@@ok\\t%s\\t%s\\n' "$f" "$v"; else printf '@@err\\t%s\\t%s\\n' "$f" "$v"; fi`,
    "done",
  ].join("\n");
}

export function parseProbe(stdout: string): QueueMask[] {
  const queues: QueueMask[] = [];
  for (const m of stdout.matchAll(/^@@(ok|err)\t([^\t\n]+)\t(.*)$/gm)) {
    queues.push(m[1] === "ok" ? { path: m[2], value: m[3].trim() } : { path: m[2], error: errnoText(m[3]) });
  }
  return queues;
}

function parseSave(text: string, path: string): NetQueueSave {
  const data = parseOriginals<NetQueueSave>(text, path, `the saved queue masks ${path} are not valid`);
  return {
    version: 1,
    originals: { ...data.originals },
    ...(data.refused && Object.keys(data.refused).length > 0 ? { refused: { ...data.refused } } : {}),
  };
}

const saveText = originalsText;

export async function probeNetQueues(host: HostReader, args: NetQueueMasksArgs): Promise<NetQueueState> {
  const s = netQueueSettings(args);
  const probe = (paths?: string[]) =>
    host.run(probeScript(s.sysRoot, args.devices, paths), { env: { LC_ALL: "C" } });
  let res: Awaited<ReturnType<typeof probe>>;
  let read: Awaited<ReturnType<HostReader["readFile"]>>;
  if (s.state === "present") [res, read] = await Promise.all([probe(), host.readFile(s.stateFile)]);
  else {
    read = await host.readFile(s.stateFile);
    const saved = read.exists ? parseSave(read.content?.toString("utf8") ?? "", s.stateFile) : undefined;
    const paths = Object.keys(saved?.originals ?? {});
    res = paths.length > 0 ? await probe(paths) : { rc: 0, stdout: "", stderr: "" };
  }
  if (res.rc !== 0) {
    throw new TicklessError(
      "TASK",
      `cannot read the queue masks under ${s.sysRoot}/class/net on ${host.name}: ${res.stderr.trim() || `rc ${res.rc}`}`,
    );
  }
  const content = read.content?.toString("utf8") ?? "";
  return {
    queues: parseProbe(res.stdout),
    stateFile: {
      path: s.stateFile,
      exists: read.exists,
      content,
      data: read.exists ? parseSave(content, s.stateFile) : undefined,
    },
  };
}

/** `eth0 rx-0 rps_cpus` for `/sys/class/net/eth0/queues/rx-0/rps_cpus`. */
export function queueLabel(path: string): string {
  const m = /\/class\/net\/([^/]+)\/queues\/([^/]+)\/([^/]+)$/.exec(path);
  return m ? `${m[1]} ${m[2]} ${m[3]}` : path;
}

function cpusOf(mask: string): number[] | undefined {
  try {
    return maskToCpuList(mask);
  } catch {
    return undefined;
  }
}

/** The mask without the isolated CPUs, as wide as the kernel's; undefined when it has none of them (or is not a mask). */
export function maskWithout(mask: string, isolated: number[]): string | undefined {
  const cpus = cpusOf(mask);
  if (cpus === undefined || !cpus.some((c) => isolated.includes(c))) return undefined;
  const width = Math.max(mask.trim().replace(/^0x/i, "").replace(/,/g, "").length * 4, 1);
  return cpuListToMask(
    cpus.filter((c) => !isolated.includes(c)),
    width,
  );
}

const cpuText = (mask: string) => formatCpuList(cpusOf(mask) ?? []) || "none";

/** Queues skipped: ENOENT on xps_cpus is a device with one transmit queue; the rest are warnings. */
export function skippedQueues(state: NetQueueState) {
  const single = (q: QueueMask) => q.error === "No such file or directory" && q.path.endsWith("/xps_cpus");
  const failed = state.queues.filter((q) => q.error !== undefined);
  const notMask = state.queues.filter((q) => q.value !== undefined && cpusOf(q.value) === undefined);
  return {
    singleQueue: failed.filter(single).map((q) => queueLabel(q.path)),
    unsupported: [
      ...failed.filter((q) => !single(q)).map((q) => `${queueLabel(q.path)}: ${q.error}`),
      ...notMask.map((q) => `${queueLabel(q.path)}: not a CPU mask (${JSON.stringify(q.value)})`),
    ],
  };
}

function stateChange(current: NetQueueState, after: NetQueueSave, summary: string): Change {
  const file = current.stateFile.path;
  const empty = Object.keys(after.originals).length === 0;
  return {
    target: file,
    summary: empty ? `${summary}; remove ${file} (empty)` : summary,
    before: current.stateFile.content,
    ...(empty ? {} : { after: saveText(after) }),
    effect: empty ? { path: file, type: "absent" } : { path: file, type: "file", content: saveText(after) },
  };
}

function maskChange(path: string, from: string, to: string, verb = ""): Change {
  return {
    target: path,
    summary: `${verb}${queueLabel(path)}: ${from} → ${to} (CPUs ${cpuText(from)} → ${cpuText(to)})`,
    before: `${from}\n`,
    after: `${to}\n`,
    effect: { path, type: "file", content: `${to}\n` },
  };
}

/** Pure: the save first (present), then each mask's write; restored: each write back, then the save removed. */
export function planNetQueues(args: NetQueueMasksArgs, current: NetQueueState): Change[] {
  const s = netQueueSettings(args);
  const save = current.stateFile.data;
  const byPath = new Map(current.queues.map((q) => [q.path, q]));
  if (s.state === "restored") {
    if (save === undefined) return [];
    const writes: Change[] = [];
    for (const [path, original] of Object.entries(save.originals)) {
      const now = byPath.get(path)?.value;
      if (now !== undefined && now !== original) writes.push(maskChange(path, now, original, "restore "));
    }
    const gone = Object.keys(save.originals).filter((p) => byPath.get(p)?.value === undefined);
    const note = gone.length > 0 ? ` (gone since: ${gone.map(queueLabel).join(", ")})` : "";
    return [
      ...writes,
      stateChange(current, { version: 1, originals: {} }, `drop the saved queue masks${note}`),
    ];
  }
  const writes = current.queues.flatMap((q) => {
    if (save?.refused?.[q.path] !== undefined) return [];
    const want = q.value === undefined ? undefined : maskWithout(q.value, s.isolated);
    return q.value === undefined || want === undefined ? [] : [maskChange(q.path, q.value, want)];
  });
  if (writes.length === 0) return [];
  const fresh = writes.filter((w) => save?.originals[w.target] === undefined);
  const changes: Change[] = [];
  if (fresh.length > 0) {
    const originals = { ...save?.originals };
    for (const w of fresh) originals[w.target] = byPath.get(w.target)?.value ?? "";
    changes.push(
      stateChange(
        current,
        { ...save, version: 1, originals },
        `save the original masks of ${fresh.map((w) => queueLabel(w.target)).join(", ")}`,
      ),
    );
  }
  return [...changes, ...writes];
}

const applySave = applyOriginals;

/** The errors with which a driver or kernel says a queue takes no such mask: skipped with a warning. */
export function isUnsupported(error: string): boolean {
  return /^(No such file or directory|Invalid argument|Operation not supported)$/.test(error);
}

/** Every write in one round trip: the refusals a driver makes for an unsupported mask, and the failures. */
async function applyWrites(host: HostWriter, writes: Change[]) {
  const outcomes = await writeAll(
    host,
    writes.map((w) => ({ key: w.target, path: w.target, value: (w.after ?? "").replace(/\n$/, "") })),
  );
  const values = new Map(writes.map((w) => [w.target, (w.after ?? "").trim()]));
  const bad = outcomes.filter((o) => !o.ok);
  const line = (o: (typeof bad)[number]) => `${values.get(o.key)} for ${queueLabel(o.key)} (${o.error})`;
  const unsupported = bad.filter((o) => isUnsupported(o.error ?? ""));
  const failed = bad.filter((o) => !isUnsupported(o.error ?? ""));
  return {
    refusals: bad.map(line),
    unsupported: Object.fromEntries(unsupported.map((o) => [o.key, o.error ?? ""])),
    failure:
      failed.length === 0
        ? undefined
        : ({ failed: true, msg: `the kernel refused ${failed.map(line).join(", ")}` } satisfies ModuleResult),
    warning:
      unsupported.length === 0
        ? ""
        : `; left as they are (the kernel does not take them): ${unsupported.map(line).join(", ")}`,
  };
}

/** The save once the refused queues' originals are dropped (never written) and their refusals kept. */
function withRefusals(file: string, data: NetQueueSave, refused: Record<string, string>): Change {
  const originals = Object.fromEntries(Object.entries(data.originals).filter(([p]) => !(p in refused)));
  const after: NetQueueSave = { version: 1, originals, refused: { ...data.refused, ...refused } };
  return { target: file, summary: "remember the refused queues", after: saveText(after) };
}

export const netQueueMasksModule = defineModule<NetQueueMasksArgs, NetQueueState>({
  name: "net_queue_masks",
  kind: "state",
  description:
    "Keep receive/transmit packet steering masks (rps_cpus, xps_cpus) off the isolated CPUs, saving the originals; restore them.",
  args: {
    type: "object",
    properties: {
      isolated: {
        anyOf: [
          { type: "string", minLength: 1 },
          { type: "integer", minimum: 0 },
          { type: "array", items: { type: "integer", minimum: 0 } },
        ],
      },
      devices: { type: "array", items: { type: "string", pattern: "^[^/\\s:]+$" } },
      state: { enum: ["present", "restored"] },
      sys_root: { type: "string", pattern: "^/" },
      state_file: { type: "string", pattern: "^/" },
    },
    additionalProperties: false,
  },
  normalize(args) {
    const s = netQueueSettings(args);
    if (s.state === "present" && s.isolated.length === 0) {
      throw new TicklessError("MODULE_ARGS", "net_queue_masks: isolated names no CPU", {
        hint: "give the isolated CPUs as a list such as 4 or 2-3,6 (isolated_cpus)",
      });
    }
    return args;
  },
  probe: probeNetQueues,
  plan: planNetQueues,
  async apply(host, args, changes, current): Promise<ModuleResult> {
    const s = netQueueSettings(args);
    const save = changes.find((c) => c.target === current.stateFile.path);
    const writes = changes.filter((c) => c !== save);
    if (s.state === "restored") {
      // the save goes last, once every original is back
      const written = await applyWrites(host, writes);
      if (written.refusals.length > 0)
        return {
          failed: true,
          msg: `the kernel refused the originals: ${written.refusals.join(", ")}; ${s.stateFile} kept`,
        };
      const failed = save && (await applySave(host, save, current.stateFile.exists));
      return failed || { msg: `${writes.length} queue masks restored from ${s.stateFile}` };
    }
    // the originals first: nothing is written unsaved
    const saved = save && (await applySave(host, save, current.stateFile.exists));
    if (saved) return saved;
    const written = await applyWrites(host, writes);
    const refused = Object.keys(written.unsupported).length > 0;
    if (refused) {
      // remembered, so that the next run (and the check after this one) leaves them
      const data = save?.after ? (JSON.parse(save.after) as NetQueueSave) : current.stateFile.data;
      const change = withRefusals(
        current.stateFile.path,
        data ?? { version: 1, originals: {} },
        written.unsupported,
      );
      const failed = await applySave(host, change, true);
      if (failed) return failed;
    }
    if (written.failure) return written.failure;
    const done = writes.length - Object.keys(written.unsupported).length;
    return {
      msg: `${done} queue masks off CPUs ${formatCpuList(s.isolated)} (originals in ${s.stateFile})${written.warning}`,
      ...(refused
        ? { warnings: Object.entries(written.unsupported).map(([p, e]) => `${queueLabel(p)}: ${e}`) }
        : {}),
    };
  },
  report(args, state) {
    const s = netQueueSettings(args);
    const { singleQueue, unsupported } = skippedQueues(state);
    const refused = Object.entries(state.stateFile.data?.refused ?? {});
    const onIsolated = state.queues.filter(
      (q) =>
        q.value !== undefined &&
        !refused.some(([p]) => p === q.path) &&
        maskWithout(q.value, s.isolated) !== undefined,
    );
    const result: ModuleResult = {
      queues: Object.fromEntries(
        state.queues.filter((q) => q.value !== undefined).map((q) => [queueLabel(q.path), q.value]),
      ),
      single_queue: singleQueue,
      unsupported: [
        ...unsupported,
        ...refused.map(([p, e]) => `${queueLabel(p)}: the kernel refused a new mask (${e})`),
      ],
    };
    // what the validation reads (check mode): the masks that still reach an isolated CPU
    if (s.state === "present")
      result.on_isolated = onIsolated.map(
        (q) => `${queueLabel(q.path)} ${q.value} (CPUs ${cpuText(q.value ?? "")})`,
      );
    if (s.state === "restored" && state.stateFile.data === undefined)
      result.msg = `no saved queue masks in ${s.stateFile}: nothing (left) to restore`;
    return result;
  },
});
