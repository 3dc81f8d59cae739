/**
 * A throwaway machine for one run: new mount, PID, UTS and network namespaces (loopback only),
 * overlays with in-memory upper dirs over the system directories and a private /tmp. What an
 * integration target writes outside its work dir vanishes with the namespace; the work dir (a real
 * directory, bind-mounted back at its own path) is the only thing the run can leave behind. The
 * paths in `keep` (the repository: its dist/ and the referee's callback plugin) stay visible,
 * read-only, even where they live under the private /tmp.
 */
import { spawn } from "node:child_process";
import quote from "shell-quote/quote.js";

const OVERLAID = ["/etc", "/opt", "/root", "/home", "/srv", "/var", "/usr", "/boot"];

/** The shell run as root inside the namespaces before the command itself. */
export function sandboxScript(workDir, keep = []) {
  const q = (v) => quote([v]);
  const lines = [
    "set -eu",
    "mount --make-rprivate /",
    "mount -t tmpfs -o mode=0755 tmpfs /run",
    "mkdir -p /run/compat-ovl /run/compat-work",
    `mount --bind ${q(workDir)} /run/compat-work`,
    ...keep.flatMap((k, i) => [`mkdir -p /run/compat-keep/${i}`, `mount --bind ${q(k)} /run/compat-keep/${i}`]),
  ];
  for (const d of OVERLAID) {
    lines.push(
      `mkdir -p /run/compat-ovl/u${d} /run/compat-ovl/w${d}`,
      `mount -t overlay overlay -o ${q(`lowerdir=${d},upperdir=/run/compat-ovl/u${d},workdir=/run/compat-ovl/w${d}`)} ${d}`,
    );
  }
  lines.push(
    "mount -t tmpfs -o mode=1777 tmpfs /tmp",
    `mkdir -p ${q(workDir)}`,
    `mount --bind /run/compat-work ${q(workDir)}`,
    ...keep.flatMap((k, i) => [
      `mkdir -p ${q(k)}`,
      `mount --bind /run/compat-keep/${i} ${q(k)}`,
      `mount -o remount,bind,ro ${q(k)}`,
    ]),
    "ip link set lo up 2>/dev/null || true",
    "hostname compat-sandbox",
    'exec "$@"',
  );
  return lines.join("\n");
}

/** Runs argv in a fresh sandbox whose only lasting writes go to workDir; resolves { rc, stdout, stderr }. */
export function runSandboxed(argv, { workDir, keep = [], cwd, env, timeoutMs }) {
  const args = [
    "--mount",
    "--uts",
    "--net",
    "--pid",
    "--fork",
    "--kill-child",
    "--mount-proc",
    "/bin/sh",
    "-c",
    sandboxScript(workDir, keep),
    "sandbox",
    ...argv,
  ];
  return new Promise((resolve) => {
    const child = spawn("unshare", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      stderr += `\n(timed out after ${timeoutMs / 1000} s)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ rc: code ?? (signal ? 128 : 1), stdout, stderr, timedOut: signal === "SIGKILL" });
    });
  });
}
