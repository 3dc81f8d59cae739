/** Latency results kept as JSON on the controller (`<results_dir>/<host>/<name>.json`) and on the host. */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { ensureStateDir } from "../util/state-dir.js";

/** Where results live on a host unless told otherwise. */
export const HOST_RESULTS_DIR = "/var/lib/tickless/latency";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new TicklessError("MODULE_ARGS", `bad result name "${name}"`, {
      hint: "use letters, digits, dot, dash and underscore (it becomes a file name)",
    });
  }
}

export function controllerPath(resultsDir: string, host: string, name: string, ext = "json"): string {
  return join(resolve(resultsDir), host, `${name}.${ext}`);
}

/** Writes one result on the host (atomically) and, when a results dir is given, on the controller. */
export async function saveResult(
  host: HostWriter,
  hostName: string,
  name: string,
  data: unknown,
  where: { stateDir: string; resultsDir?: string },
): Promise<{ host_file: string; controller_file?: string }> {
  return saveText(host, hostName, name, "json", `${JSON.stringify(data, null, 2)}\n`, where);
}

/** Writes `<name>.<ext>` on the host (atomically) and, when a results dir is given, on the controller. */
export async function saveText(
  host: HostWriter,
  hostName: string,
  name: string,
  ext: string,
  text: string,
  where: { stateDir: string; resultsDir?: string },
): Promise<{ host_file: string; controller_file?: string }> {
  checkName(name);
  const hostFile = `${where.stateDir}/${name}.${ext}`;
  await ensureStateDir(host, where.stateDir);
  await host.writeFile(hostFile, text, { mode: "0644" });
  if (where.resultsDir === undefined) return { host_file: hostFile };
  const file = controllerPath(where.resultsDir, hostName, name, ext);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
  return { host_file: hostFile, controller_file: file };
}

/** Reads a named result from the controller's results dir, else from the host's state dir. */
export async function loadResult(
  host: HostReader,
  hostName: string,
  name: string,
  where: { stateDir: string; resultsDir?: string },
): Promise<unknown> {
  checkName(name);
  if (where.resultsDir !== undefined) {
    const text = await readFile(controllerPath(where.resultsDir, hostName, name), "utf8").catch(
      () => undefined,
    );
    if (text !== undefined) return JSON.parse(text);
  }
  const file = await host.readFile(`${where.stateDir}/${name}.json`);
  if (!file.exists || file.content === undefined) {
    throw new TicklessError("TASK", `no latency result "${name}" for ${hostName}`, {
      hint: `run redis_latency with save_as: ${name} first (looked in ${where.resultsDir ?? "no results_dir"} and ${where.stateDir} on the host)`,
    });
  }
  return JSON.parse(file.content.toString("utf8"));
}
