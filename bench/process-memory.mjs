// Peak memory of a process tree, sampled from /proc: the sum of RSS (double-counts shared pages)
// and of PSS (does not) over the root process, its descendants and any extra processes a predicate
// adopts (Ansible's ControlPersist masters detach from the tree).
import { readdir, readFile } from "node:fs/promises";

async function processTable() {
  const table = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await readFile(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = (await readFile(`/proc/${d}/cmdline`, "utf8")).replaceAll("\0", " ");
      table.push({ pid: Number(d), ppid, cmdline });
    } catch {
      // the process exited while the table was read
    }
  }
  return table;
}

function treeOf(root, table) {
  const members = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of table) {
      if (!members.has(p.pid) && members.has(p.ppid)) {
        members.add(p.pid);
        grew = true;
      }
    }
  }
  return members;
}

/** RSS and PSS of one process in kB (smaps_rollup), or zeros if it is gone. */
async function memoryOf(pid) {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
    return { rss: field("Rss"), pss: field("Pss") };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** Samples every `intervalMs` until stopped; `stop()` resolves to the peaks in MB and the peak process count. */
export function sampleTree(rootPid, adopt = () => false, intervalMs = 200) {
  const peak = { rssMb: 0, pssMb: 0, processes: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const table = await processTable();
      const pids = treeOf(rootPid, table);
      for (const p of table) if (adopt(p.cmdline)) pids.add(p.pid);
      const mem = await Promise.all([...pids].map(memoryOf));
      peak.rssMb = Math.max(peak.rssMb, mem.reduce((s, m) => s + m.rss, 0) / 1024);
      peak.pssMb = Math.max(peak.pssMb, mem.reduce((s, m) => s + m.pss, 0) / 1024);
      peak.processes = Math.max(peak.processes, pids.size);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peak;
    },
  };
}
