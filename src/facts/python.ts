/**
 * The facts ansible-core's `python` and `platform` collectors give about the host's Python:
 * `python` (version, version_info, executable, has_sslcontext, type) and `python_version`. The
 * interpreter is the host's `ansible_python_interpreter`, else the first of /usr/bin/python3,
 * python3, /usr/bin/python, python (what Ansible's discovery picks on Debian); none: no facts.
 */
import { quote } from "shell-quote";

/** Prints the facts as one JSON line, as the collectors word them. */
const PYTHON_FACTS = [
  "import json, platform, sys",
  "try:",
  "    from ssl import SSLContext, create_default_context",
  "    ssl = True",
  "except ImportError:",
  "    ssl = False",
  "v = sys.version_info",
  "impl = getattr(sys, 'implementation', None)",
  "print(json.dumps({'python': {'version': {'major': v[0], 'minor': v[1], 'micro': v[2],",
  "  'releaselevel': v[3], 'serial': v[4]}, 'version_info': list(v), 'executable': sys.executable,",
  "  'has_sslcontext': ssl, 'type': impl.name if impl else None},",
  "  'python_version': platform.python_version()}))",
].join("\n");

/** The fact script's `@@python` section: the first interpreter found runs the collector. */
export function pythonSection(interpreter?: string): string {
  const candidates = interpreter
    ? [interpreter]
    : ["/usr/bin/python3", "python3", "/usr/bin/python", "python"];
  const loop = `for p in ${quote(candidates)}; do if command -v "$p" >/dev/null 2>&1; then "$p" -c ${quote([PYTHON_FACTS])} 2>/dev/null; break; fi; done`;
  return `echo @@python; ${loop}`;
}

/** The collector's JSON line → facts ({} when no interpreter answered). */
export function parsePythonFacts(text: string): Record<string, unknown> {
  const line = text.trim();
  if (!line.startsWith("{")) return {};
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return {};
  }
}
