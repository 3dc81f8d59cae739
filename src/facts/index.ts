/** Read-only facts about a host, gathered in one round trip. */
export { FACTS_SCRIPT, gatherFacts } from "./gather.js";
export { type InterruptRow, type Interrupts, interruptsPerCpu, parseInterrupts } from "./interrupts.js";
export {
  cgroupVersion,
  factVars,
  parseCmdline,
  parseFacts,
  parseNumaNodes,
  parseOsRelease,
  systemdVersion,
} from "./parse.js";
