// The transport floor: what the same number of round trips costs with nothing else going on —
// one ssh2 connection per host (src/connection/ssh.ts's openSsh, opened at once for all hosts),
// then `true` run sequentially `roundTrips` times on it, as exec channels or over a long-lived shell.
const dist = process.env.TICKLESS_DIST_DIR ?? new URL("../dist/", import.meta.url).href;
const { openSsh } = await import(`${dist}connection/ssh.js`);

/** Settings of a lab host as tickless's inventory resolves them. */
function settingsOf(lab, host) {
  return {
    host: host.name,
    transport: "ssh",
    address: host.address,
    port: host.port,
    user: "root",
    privateKeyFile: lab.keyFile,
    knownHostsFile: lab.knownHostsFile,
  };
}

/**
 * Wall times (ms) of connecting to every host and of the round trips that follow, all hosts in parallel.
 * `nonZero` counts `true`s that came back with another exit code (each still made its round trip).
 */
export async function measureFloor(lab, hosts, roundTrips, runMode) {
  let nonZero = 0;
  const start = performance.now();
  const connections = await Promise.all(hosts.map((h) => openSsh(settingsOf(lab, h), { runMode })));
  const connected = performance.now();
  try {
    await Promise.all(
      connections.map(async (c) => {
        for (let i = 0; i < roundTrips; i++) {
          if ((await c.run("true")).rc !== 0) nonZero++;
        }
      }),
    );
  } finally {
    await Promise.all(connections.map((c) => c.close()));
  }
  const end = performance.now();
  return { totalMs: end - start, connectMs: connected - start, tripsMs: end - connected, nonZero };
}

/**
 * Diagnostic: the same mix of operations tickless made per host (`calls`: run/readFile/stat/writeFile/remove
 * counts), done back to back on one shell-mode connection per host with trivial arguments: what the
 * remote commands themselves cost, without the engine in between.
 */
export async function measureSameOps(lab, hosts, calls) {
  const start = performance.now();
  const connections = await Promise.all(hosts.map((h) => openSsh(settingsOf(lab, h), { runMode: "shell" })));
  try {
    await Promise.all(
      connections.map(async (c) => {
        const file = `/tmp/bench-floor-${c.name}`;
        await c.writeFile(file, "x".repeat(200));
        for (let i = 0; i < calls.run; i++) await c.run("true");
        for (let i = 0; i < calls.readFile; i++) await c.readFile(file);
        for (let i = 0; i < calls.stat; i++) await c.stat(file);
        for (let i = 0; i < calls.writeFile; i++) await c.writeFile(file, "y".repeat(200), { mode: "0644" });
        for (let i = 0; i < calls.remove; i++) await c.remove(`${file}.absent`);
        await c.remove(file);
      }),
    );
  } finally {
    await Promise.all(connections.map((c) => c.close()));
  }
  return performance.now() - start;
}
