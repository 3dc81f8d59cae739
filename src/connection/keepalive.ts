/** SSH keepalives: how a connected host that stopped answering (frozen, cut off) is given up. */
import type { ConnectionSettings } from "./types.js";

/**
 * A connected host that answers no SSH keepalive for this long is given up (tickless_unreachable_timeout):
 * ssh2 sends one every quarter of it and gives up when a 4th one in a row would go unanswered, so a
 * host that freezes is dropped between 3/4 of the bound and the bound.
 */
export const DEFAULT_UNREACHABLE_TIMEOUT_MS = 60_000;
const KEEPALIVE_COUNT_MAX = 3;

/** ssh2's keepalive settings for the host's unreachable bound. */
export function keepalive(settings: ConnectionSettings): {
  keepaliveInterval: number;
  keepaliveCountMax: number;
} {
  const bound = settings.unreachableTimeoutMs ?? DEFAULT_UNREACHABLE_TIMEOUT_MS;
  return {
    keepaliveInterval: Math.max(250, Math.ceil(bound / (KEEPALIVE_COUNT_MAX + 1))),
    keepaliveCountMax: KEEPALIVE_COUNT_MAX,
  };
}

/** ssh2's "Keepalive timeout", said as what was seen. */
export function keepaliveLost(
  err: Error & { level?: string },
  settings: ConnectionSettings,
): string | undefined {
  if (err.level !== "client-timeout" || !/keepalive/i.test(err.message)) return undefined;
  const { keepaliveInterval, keepaliveCountMax } = keepalive(settings);
  const seconds = (keepaliveInterval * (keepaliveCountMax + 1)) / 1000;
  return `no answer to SSH keepalives within ${seconds} s (tickless_unreachable_timeout)`;
}
