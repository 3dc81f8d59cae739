/** Asks a question on the terminal without echoing the answer (vault passwords). */
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { OptionError } from "../errors.js";

export async function askOnTerminal(question: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new OptionError("--ask-vault-pass needs a terminal on stdin", {
      hint: "pass --vault-password-file FILE (or --vault-id label@FILE) when not on a terminal",
    });
  }
  process.stderr.write(question);
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once("line", resolve);
      rl.once("close", () => reject(new OptionError("no vault password was entered (end of input)")));
    });
  } finally {
    rl.close();
    process.stderr.write("\n");
  }
}
