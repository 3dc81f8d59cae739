/** Host names as Ansible's inventories write them: `host:port`, `[ipv6]:port`, and host ranges. */

/** `host:port` and `[ipv6]:port` as Ansible's parse_address reads them (the port becomes ansible_port). */
export function splitPort(text: string): { name: string; port?: number } {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { name: v6[1], port: v6[2] === undefined ? undefined : Number(v6[2]) };
  const m = /^([^:]+):(\d+)$/.exec(text);
  return m ? { name: m[1], port: Number(m[2]) } : { name: text };
}

/** Expands Ansible host ranges: `web[01:03]` → web01 web02 web03, `db-[a:c]`, `n[0:10:5]`. */
export function expandHostRange(pattern: string): string[] {
  const m = /\[([^\]:]*):([^\]:]*)(?::([^\]]*))?\]/.exec(pattern);
  if (!m) return [pattern];
  const [whole, start, end, stepText] = m;
  const head = pattern.slice(0, m.index);
  const tail = pattern.slice(m.index + whole.length);
  const step = stepText === undefined ? 1 : Number(stepText);
  if (!Number.isInteger(step) || step < 1) throw new Error(`bad step in host range \`${whole}\``);
  let items: string[];
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const width = start.length > 1 && start.startsWith("0") ? start.length : 0;
    items = range(Number(start), Number(end), step).map((n) => String(n).padStart(width, "0"));
  } else if (/^[a-zA-Z]$/.test(start) && /^[a-zA-Z]$/.test(end)) {
    items = range(start.charCodeAt(0), end.charCodeAt(0), step).map((c) => String.fromCharCode(c));
  } else {
    throw new Error(`bad host range \`${whole}\`: both ends must be numbers or single letters`);
  }
  if (items.length === 0) throw new Error(`empty host range \`${whole}\`: the start is after the end`);
  return items.flatMap((item) => expandHostRange(`${head}${item}${tail}`));
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i += step) out.push(i);
  return out;
}
