/** Read-only facts about a host, gathered in one round trip. */
export { FACTS_SCRIPT, gatherFacts } from "./gather.js";
export { parseCmdline, parseFacts, parseOsRelease } from "./parse.js";
