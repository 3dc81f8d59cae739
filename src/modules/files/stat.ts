/** stat: read-only facts about a path, Ansible's whole `stat` dictionary (registered as `result.stat`). */
import { quote } from "shell-quote";
import type { FileStat } from "../../connection/types.js";
import { defineModule } from "../types.js";
import { pathArg, resolveAliases } from "../util/args.js";
import { plannedStatEntry, withPlanned } from "./stat-planned.js";

const ALGORITHMS = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"] as const;

export interface StatArgs {
  path: string;
  follow?: boolean;
  get_checksum?: boolean;
  checksum_algorithm?: (typeof ALGORITHMS)[number];
  get_md5?: boolean;
  get_mime?: boolean;
  get_attributes?: boolean;
}

/** What `stat -c` gives beyond FileStat: raw mode bits, inode, device, links, times, blocks. */
export interface PosixStat {
  rawMode: number;
  inode: number;
  dev: number;
  nlink: number;
  atime: number;
  mtime: number;
  ctime: number;
  blocks: number;
  blockSize: number;
  rdev: number;
}

export interface StatState {
  stat: FileStat;
  /** Which of r, w, x the connecting user has (test -r/-w/-x). */
  access: string;
  /** Absolute resolved path of a link. */
  realpath?: string;
  /** The checksum (checksum_algorithm, sha1 by default) of a readable regular file's bytes. */
  checksum?: string;
  md5?: string;
  posix?: PosixStat;
  /** `file --mime-type --mime-encoding` output; "" when it failed, absent when not asked for. */
  mime?: string;
  /** `lsattr -vd` output; "" when it failed, absent when not asked for. */
  lsattr?: string;
}

const PATH = pathArg(["dest", "name"]);
const ALIASES = {
  ...PATH.aliases,
  mime: "get_mime",
  mime_type: "get_mime",
  "mime-type": "get_mime",
  attr: "get_attributes",
  attributes: "get_attributes",
  checksum: "checksum_algorithm",
  checksum_algo: "checksum_algorithm",
};

export const statModule = defineModule<StatArgs, StatState>({
  kind: "state",
  name: "stat",
  description:
    "Read a path's type, mode, owner, size, times, checksum, MIME type and attributes (changes nothing).",
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      ...PATH.properties,
      follow: { type: "boolean" },
      get_checksum: { type: "boolean" },
      get_md5: { type: "boolean" },
      ...Object.fromEntries(
        ["get_mime", "mime", "mime_type", "mime-type"].map((k) => [k, { type: "boolean" }]),
      ),
      ...Object.fromEntries(["get_attributes", "attr", "attributes"].map((k) => [k, { type: "boolean" }])),
      ...Object.fromEntries(
        ["checksum_algorithm", "checksum", "checksum_algo"].map((k) => [k, { enum: [...ALGORITHMS] }]),
      ),
    },
    allOf: [PATH.required],
  },
  normalize: (args) => resolveAliases(args, ALIASES),
  async probe(host, args) {
    const follow = args.follow ?? false;
    const [info, extra, planned] = await Promise.all([
      host.stat(args.path, { follow }),
      host.run(statScript(args)),
      plannedStatEntry(host, args.path, follow),
    ]);
    const probed = { stat: info, ...parseStatScript(extra.stdout) };
    // a check run: what an earlier task planned at the path, not what the command found on the host
    return planned ? withPlanned(host, args, probed, planned) : probed;
  },
  plan: () => [],
  apply: async () => ({}),
  report: (_args, state) => ({ stat: ansibleStat(state) }),
});

/** One command for what FileStat lacks, a line each (see parseStatScript). */
export function statScript(args: StatArgs): string {
  const p = quote([args.path]);
  const algo = args.checksum_algorithm ?? "sha1";
  const digest = (tool: string) =>
    `if [ -f ${p} ] && [ -r ${p} ]; then ${tool} < ${p} | cut -d' ' -f1; else echo; fi`;
  const mime = `file --mime-type --mime-encoding ${p} 2>/dev/null || echo`;
  const attrs = `{ lsattr -vd ${p} 2>/dev/null || echo; } | head -n 1`;
  return [
    `a=; for f in r w x; do test -$f ${p} && a=$a$f; done; echo "$a"`,
    `if [ -L ${p} ]; then readlink -f -- ${p}; else echo; fi`,
    args.get_checksum === false ? "echo" : digest(`${algo}sum`),
    args.get_md5 ? digest("md5sum") : "echo",
    `stat ${args.follow ? "-L " : ""}-c '%f %i %d %h %.9X %.9Y %.9Z %b %o %r' -- ${p} 2>/dev/null || echo`,
    args.get_mime === false ? "echo -" : mime,
    args.get_attributes === false ? "echo -" : attrs,
  ].join("; ");
}

/** seconds.nanoseconds as Python's os.stat float (seconds + nanoseconds × 1e-9). */
function pyTime(text: string): number {
  const [s, ns = "0"] = text.split(".");
  return Number(s) + Number(ns) * 1e-9;
}

function parsePosix(line: string): PosixStat | undefined {
  const f = line.trim().split(" ");
  if (f.length !== 10) return undefined;
  const [raw, inode, dev, nlink, atime, mtime, ctime, blocks, blockSize, rdev] = f;
  return {
    rawMode: Number.parseInt(raw, 16),
    inode: Number(inode),
    dev: Number(dev),
    nlink: Number(nlink),
    atime: pyTime(atime),
    mtime: pyTime(mtime),
    ctime: pyTime(ctime),
    blocks: Number(blocks),
    blockSize: Number(blockSize),
    rdev: Number(rdev),
  };
}

/** The lines of statScript's output. */
export function parseStatScript(stdout: string): Omit<StatState, "stat"> {
  const [access = "", realpath = "", checksum = "", md5 = "", posix = "", mime = "-", lsattr = "-"] =
    stdout.split("\n");
  return {
    access,
    realpath: realpath || undefined,
    checksum: checksum || undefined,
    ...(md5 ? { md5 } : {}),
    ...(parsePosix(posix) ? { posix: parsePosix(posix) } : {}),
    ...(mime === "-" ? {} : { mime }),
    ...(lsattr === "-" ? {} : { lsattr }),
  };
}

/** lsattr's flag letters → Ansible's attribute names (module_utils FILE_ATTRIBUTES). */
const FILE_ATTRIBUTES: Record<string, string> = {
  A: "noatime",
  a: "append",
  c: "compressed",
  C: "nocow",
  d: "nodump",
  D: "dirsync",
  e: "extents",
  E: "encrypted",
  h: "blocksize",
  i: "immutable",
  I: "indexed",
  j: "journalled",
  N: "inline",
  s: "zero",
  S: "synchronous",
  t: "notail",
  T: "blockroot",
  u: "undelete",
  X: "compressedraw",
  Z: "compresseddirty",
};

/** `mimetype` and `charset` as Ansible parses `file`'s answer ("unknown" when it gave none). */
function mimeFields(out: string): Record<string, string> {
  const tail = out.slice(out.lastIndexOf(":") + 1).split(";");
  if (!out || tail.length !== 2 || !tail[1].includes("=")) return { mimetype: "unknown", charset: "unknown" };
  return { mimetype: tail[0].trim(), charset: tail[1].split("=")[1].trim() };
}

/** `version`, `attr_flags` and `attributes` from `lsattr -vd` (none when it failed). */
function attributeFields(out: string): Record<string, unknown> {
  const words = out.trim().split(/\s+/);
  if (!out.trim() || words.length < 2) return { version: null, attributes: [], attr_flags: "" };
  const flags = words[1].replace(/-/g, "");
  return {
    version: words[0],
    attr_flags: flags,
    attributes: [...flags].map((c) => FILE_ATTRIBUTES[c]).filter(Boolean),
  };
}

/** The mode bits as Ansible's format_output names them. */
function modeFields(raw: number): Record<string, boolean> {
  const kind = raw & 0o170000;
  return {
    isdir: kind === 0o040000,
    ischr: kind === 0o020000,
    isblk: kind === 0o060000,
    isreg: kind === 0o100000,
    isfifo: kind === 0o010000,
    islnk: kind === 0o120000,
    issock: kind === 0o140000,
    wusr: (raw & 0o200) !== 0,
    rusr: (raw & 0o400) !== 0,
    xusr: (raw & 0o100) !== 0,
    wgrp: (raw & 0o020) !== 0,
    rgrp: (raw & 0o040) !== 0,
    xgrp: (raw & 0o010) !== 0,
    woth: (raw & 0o002) !== 0,
    roth: (raw & 0o004) !== 0,
    xoth: (raw & 0o001) !== 0,
    isuid: (raw & 0o4000) !== 0,
    isgid: (raw & 0o2000) !== 0,
  };
}

/** The `stat` dict as Ansible's stat module returns it. */
export function ansibleStat(state: StatState): Record<string, unknown> {
  const s = state.stat;
  if (!s.exists) return { exists: false };
  const p = state.posix;
  const isreg = p ? (p.rawMode & 0o170000) === 0o100000 : s.type === "file";
  const islnk = p ? (p.rawMode & 0o170000) === 0o120000 : s.type === "link";
  return {
    exists: true,
    path: s.path,
    mode: p ? (p.rawMode & 0o7777).toString(8).padStart(4, "0") : s.mode,
    isreg,
    isdir: s.type === "directory",
    islnk,
    ...(p ? modeFields(p.rawMode) : {}),
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    ...(p
      ? {
          inode: p.inode,
          dev: p.dev,
          nlink: p.nlink,
          atime: p.atime,
          mtime: p.mtime,
          ctime: p.ctime,
          blocks: p.blocks,
          block_size: p.blockSize,
          device_type: p.rdev,
        }
      : { mtime: s.mtime }),
    readable: state.access.includes("r"),
    writeable: state.access.includes("w"),
    executable: state.access.includes("x"),
    ...(islnk ? { lnk_source: state.realpath, lnk_target: s.linkTarget } : {}),
    pw_name: s.owner,
    gr_name: s.group,
    ...(isreg && state.access.includes("r") && state.md5 ? { md5: state.md5 } : {}),
    ...(isreg && state.access.includes("r") && state.checksum ? { checksum: state.checksum } : {}),
    ...(state.mime !== undefined ? mimeFields(state.mime) : {}),
    ...(state.lsattr !== undefined ? attributeFields(state.lsattr) : {}),
  };
}
