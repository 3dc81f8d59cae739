/**
 * Ansible's `random` filter: a number of `range(start, end, step)` or an item of a list, from the
 * system's random source, or with `seed` from Python's Random(seed) (MT19937 seeded as CPython
 * seeds it: an int by its 32-bit words, a string by its bytes and their SHA-512), so a seeded
 * result is the one Ansible gives.
 */
import { createHash, randomInt } from "node:crypto";
import { TicklessError } from "../errors.js";

const N = 624;

/** CPython's Mersenne Twister (Modules/_randommodule.c), as far as randrange and choice use it. */
class MersenneTwister {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(key: number[]) {
    const mt = this.mt;
    mt[0] = 19650218;
    for (let i = 1; i < N; i++) mt[i] = Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      mt[i] = (mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1664525)) + key[j] + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      mt[i] = (mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1566083941)) - i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  private next(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
        mt[k] = mt[(k + 397) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    return (y ^ (y >>> 18)) >>> 0;
  }

  /** random.getrandbits(k): the words from the least significant, the last one cut to its bits. */
  getrandbits(k: number): bigint {
    let out = 0n;
    for (let shift = 0; k > 0; shift += 32, k -= 32) {
      const word = this.next();
      out |= BigInt(k < 32 ? word >>> (32 - k) : word) << BigInt(shift);
    }
    return out;
  }

  /** random._randbelow(n): k bits until one below n. */
  below(n: bigint): bigint {
    const k = n.toString(2).length;
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }
}

/** The key Python's Random(seed) seeds with: an int's 32-bit words, a string's bytes and their SHA-512. */
function seedKey(seed: unknown): number[] {
  let value: bigint;
  if (typeof seed === "number" && Number.isInteger(seed)) value = BigInt(Math.abs(seed));
  else if (typeof seed === "boolean") value = seed ? 1n : 0n;
  else {
    const bytes = Buffer.from(String(seed), "utf8");
    const all = Buffer.concat([bytes, createHash("sha512").update(bytes).digest()]);
    value = BigInt(`0x${all.toString("hex")}`);
  }
  const key: number[] = [];
  for (; value > 0n; value >>= 32n) key.push(Number(value & 0xffffffffn));
  return key.length ? key : [0];
}

function fail(message: string): never {
  throw new TicklessError("EXPRESSION", message, {
    hint: "{{ 10 | random }}, {{ 20 | random(start=10, step=2) }}, {{ ['a', 'b'] | random(seed=inventory_hostname) }}",
  });
}

/** A random number below `n` (a positive integer), seeded or not. */
function below(n: bigint, seed: unknown): bigint {
  if (seed !== undefined && seed !== null) return new MersenneTwister(seedKey(seed)).below(n);
  return n <= BigInt(Number.MAX_SAFE_INTEGER - 1) ? BigInt(randomInt(Number(n))) : randomBig(n);
}

function randomBig(n: bigint): bigint {
  const bits = n.toString(2).length;
  for (;;) {
    let r = 0n;
    for (let i = 0; i < bits; i += 32) r = (r << 32n) | BigInt(randomInt(2 ** 32));
    r &= (1n << BigInt(bits)) - 1n;
    if (r < n) return r;
  }
}

/** `end | random(start, step, seed)` as ansible-core's `rand`. */
export function randomFilter(end: unknown, start?: unknown, step?: unknown, seed?: unknown): unknown {
  if (typeof end === "number" && Number.isInteger(end)) {
    const from = BigInt(Number(start || 0));
    const by = BigInt(Number(step || 1));
    const width = BigInt(end) - from;
    // random.randrange(start, end, step)
    const n = by > 0n ? (width + by - 1n) / by : (width + by + 1n) / by;
    if (n <= 0n) fail(`empty range for randrange() (${from}, ${end}, ${width})`);
    return Number(from + by * below(n, seed));
  }
  if (Array.isArray(end) || typeof end === "string") {
    if (start || step) fail("start and step can only be used with integer values");
    const items = Array.isArray(end) ? end : [...end];
    if (items.length === 0) fail("Cannot choose from an empty sequence");
    return items[Number(below(BigInt(items.length), seed))];
  }
  return fail("random can only be used on sequences and integers");
}
