/**
 * The VM lab's pristine Debian bookworm disk image: built once by build-image.sh, cached outside
 * the clone under a hash of the build recipe, so a recipe change builds a new image.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
export const BUILD_SCRIPT = join(HERE, "build-image.sh");

/** Host commands the build and the VMs need, with the Debian package that provides each. */
export const HOST_TOOLS: Record<string, string> = {
  debootstrap: "debootstrap",
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-img": "qemu-utils",
  sfdisk: "fdisk",
  "mkfs.ext4": "e2fsprogs",
  "ssh-keygen": "openssh-client",
  ssh: "openssh-client",
};

export interface PhaseTimings {
  debootstrap: number;
  image: number;
  firstboot: number;
}

export interface VmImage {
  /** The cache entry: `<cache>/<recipe hash>`. */
  dir: string;
  /** Raw MBR disk with GRUB installed; never written to (VMs boot qcow2 overlays of it). */
  disk: string;
  /** The kernel of the image, for the KVM probe. */
  kernel: string;
  /** Root's private key (its public half is in the image's authorized_keys). */
  keyFile: string;
  /** The guest's ed25519 host key: `ssh-ed25519 AAAA…`. */
  hostKey: string;
  /** Seconds each build phase took (from the build that made this cache entry). */
  timings: PhaseTimings;
  /** True when this call built the image, false when it came from the cache. */
  built: boolean;
}

export interface ImageOptions {
  /** Default: $TICKLESS_VM_CACHE or /var/cache/tickless-vm. */
  cacheDir?: string;
  /** Debian mirror; default: $TICKLESS_VM_MIRROR or the bookworm mirror of this machine's apt sources. */
  mirror?: string;
  /** Receives the build's output lines. */
  log?: (line: string) => void;
}

export function cacheDir(options: ImageOptions = {}): string {
  return options.cacheDir ?? process.env.TICKLESS_VM_CACHE ?? "/var/cache/tickless-vm";
}

/** The cached image for the current recipe, building it first if needed. */
export async function ensureImage(options: ImageOptions = {}): Promise<VmImage> {
  const cache = cacheDir(options);
  const recipe = await readFile(BUILD_SCRIPT);
  const dir = join(cache, hashOf(recipe));
  const ready = await describe(dir, false).catch(() => undefined);
  if (ready) return ready;
  await checkHostTools();
  await mkdir(cache, { recursive: true });
  const release = await lock(`${dir}.lock`);
  try {
    const builtMeanwhile = await describe(dir, false).catch(() => undefined);
    if (builtMeanwhile) return builtMeanwhile;
    const mirror = options.mirror ?? process.env.TICKLESS_VM_MIRROR ?? (await aptMirror());
    const work = `${dir}.build`;
    await rm(work, { recursive: true, force: true });
    // bash reads a script as it runs: a private copy keeps edits of the recipe out of this build.
    const script = `${dir}.build.sh`;
    await writeFile(script, recipe);
    await runBuild(script, work, mirror, `${dir}.build.log`, options.log);
    await rm(script);
    await rename(work, dir);
    return await describe(dir, true);
  } finally {
    await release();
  }
}

/** The cache key: sha256 of everything that decides the image's content, the build script. */
function hashOf(recipe: Buffer): string {
  return createHash("sha256").update(recipe).digest("hex").slice(0, 16);
}

async function describe(dir: string, built: boolean): Promise<VmImage> {
  const timings = JSON.parse(await readFile(join(dir, "timings.json"), "utf8")) as PhaseTimings;
  const hostKey = (await readFile(join(dir, "ssh_host_ed25519_key.pub"), "utf8"))
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .join(" ");
  const kernel = join(dir, "vmlinuz");
  await access(kernel);
  return {
    dir,
    disk: join(dir, "disk.raw"),
    kernel,
    keyFile: join(dir, "id_ed25519"),
    hostKey,
    timings,
    built,
  };
}

async function checkHostTools(): Promise<void> {
  const missing: string[] = [];
  for (const [tool, pkg] of Object.entries(HOST_TOOLS)) {
    const found = await execFileAsync("sh", ["-c", `command -v ${tool}`], {
      env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` },
    }).then(
      () => true,
      () => false,
    );
    if (!found && !missing.includes(pkg)) missing.push(pkg);
  }
  if (missing.length > 0)
    throw new Error(`the VM lab needs these Debian packages: apt-get install ${missing.join(" ")}`);
}

/** The Debian (not security) mirror serving bookworm in this machine's apt sources. */
export async function aptMirror(): Promise<string> {
  const files = ["/etc/apt/sources.list"];
  const d = "/etc/apt/sources.list.d";
  for (const f of await readdir(d).catch(() => [] as string[])) files.push(join(d, f));
  for (const f of files) {
    const text = await readFile(f, "utf8").catch(() => "");
    const found = mirrorIn(text);
    if (found) return found;
  }
  throw new Error("no Debian bookworm mirror in /etc/apt/sources.list*: set TICKLESS_VM_MIRROR");
}

/** The first `…/debian` URI with suite bookworm, in one-line or deb822 sources text. */
export function mirrorIn(text: string): string | undefined {
  const isDebian = (uri: string) => /^https?:\/\/\S+\/debian\/?$/.test(uri);
  for (const line of text.split("\n")) {
    const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/.exec(line);
    if (m && isDebian(m[1])) return m[1];
  }
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) =>
      new RegExp(`^${name}:\\s*(.+)$`, "mi").exec(stanza)?.[1].trim().split(/\s+/);
    const uris = field("URIs") ?? [];
    const suites = field("Suites") ?? [];
    const types = field("Types") ?? [];
    const uri = uris.find(isDebian);
    if (uri && suites.includes("bookworm") && types.includes("deb")) return uri;
  }
  return undefined;
}

function runBuild(
  script: string,
  work: string,
  mirror: string,
  logFile: string,
  log?: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile);
    const child = spawn("setpriv", ["--pdeathsig", "KILL", "bash", script, work, mirror], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin`, DEBIAN_FRONTEND: "noninteractive" },
    });
    let tail = "";
    const onData = (chunk: Buffer) => {
      out.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
      if (log) for (const line of chunk.toString().split("\n")) if (line.startsWith("== ")) log(line);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => {
      out.end();
      if (code === 0) resolve();
      else reject(new Error(`the VM image build failed (exit ${code}); log: ${logFile}\n${tail}`));
    });
  });
}

/** An exclusive lock (a directory holding the owner's pid); a lock whose owner died is taken over. */
async function lock(path: string): Promise<() => Promise<void>> {
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(join(path, "pid"), String(process.pid));
      return () => rm(path, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number(await readFile(join(path, "pid"), "utf8").catch(() => "0"));
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if ((owner && !alive(owner)) || (!owner && age > 10_000))
        await rm(path, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
