// What an interrupted bench must not leave behind: on SIGINT or SIGTERM every registered cleanup runs
// in ascending `order` (0: the ansible-playbook process groups and their ControlPersist masters, the
// tickless child; 1: the lab's hosts and directory), and the bench exits 130 or 143.
const cleanups = [];
const GRACE_MS = 15_000;

/** Registers `fn` to run if the bench is interrupted, after those of a lower `order`; returns a function that unregisters it. */
export function onInterrupt(fn, order = 0) {
  const entry = { fn, order };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

let interrupted = false;

/** Resolves at once, or never once the bench is interrupted: a child killed by the cleanup is not a failed run to report. */
export function untilInterruptHandled() {
  return interrupted ? new Promise(() => {}) : Promise.resolve();
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    if (interrupted) return;
    interrupted = true;
    const code = signal === "SIGINT" ? 130 : 143;
    // A cleanup that hangs must not keep the bench alive.
    setTimeout(() => process.exit(code), GRACE_MS).unref();
    for (const { fn } of [...cleanups].sort((a, b) => a.order - b.order)) {
      try {
        await fn();
      } catch {
        // the next cleanup still runs
      }
    }
    process.exit(code);
  });
}
