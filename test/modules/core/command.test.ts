import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { quote } from "shell-quote";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import {
  commandModule,
  hostWord,
  planRun,
  skipReason,
  splitCommand,
} from "../../../src/modules/core/command.js";
import { coreContext } from "../../support/module-context.js";

describe("splitCommand", () => {
  it.each([
    ["echo hello", ["echo", "hello"]],
    [`echo "a b" 'c d'`, ["echo", "a b", "c d"]],
    ["echo a|b > out", ["echo", "a|b", ">", "out"]],
    [`ls $HOME \${X}y '$Z' *.txt`, ["ls", "$HOME", `\${X}y`, "$Z", "*.txt"]],
    ['echo "x \\$y" # c', ["echo", "x \\$y", "#", "c"]],
    ["echo a\\ b", ["echo", "a b"]],
  ])("%s", (cmd, argv) => {
    expect(splitCommand(cmd)).toEqual(argv);
  });
});

describe("hostWord", () => {
  it.each([
    ["plain", "plain"],
    ["", "''"],
    ["a b", "'a b'"],
    ["$HOME/x", `"\${HOME-\\$HOME}"/x`],
    ["~/a b", "~/'a b'"],
    ["a~", "a\\~"],
  ])("%j → %s", (word, shellWord) => {
    expect(hostWord(word)).toBe(shellWord);
  });
});

describe("command plan", () => {
  it.each([
    [{ cmd: "x" }, {}, 1],
    [{ cmd: "x", creates: "/a" }, { createsExists: true }, 0],
    [{ cmd: "x", creates: "/a" }, { createsExists: false }, 1],
    [{ cmd: "x", removes: "/a" }, { removesExists: false }, 0],
    [{ cmd: "x", removes: "/a" }, { removesExists: true }, 1],
  ])("%j with %j plans %i change(s)", (args, state, n) => {
    expect(commandModule.plan(args, state)).toHaveLength(n);
  });

  it("says why it will not run", () => {
    expect(skipReason({ cmd: "x", creates: "/x" }, { createsExists: true })).toBe("since '/x' exists");
    expect(skipReason({ cmd: "x", removes: "/y" }, { removesExists: false })).toBe(
      "since '/y' does not exist",
    );
    expect(planRun("make", { cmd: "make" }, {})).toEqual([{ target: "make", summary: "run: make" }]);
  });

  it("validates its args", () => {
    const validate = new Ajv().compile(commandModule.args);
    expect(validate({ cmd: "ls" })).toBe(true);
    expect(validate({ argv: ["ls", "-l"] })).toBe(true);
    // accepted as Ansible accepts them: the module warns or fails when the task runs (refusal)
    expect(validate({ cmd: "ls", executable: "/bin/bash" })).toBe(true);
    expect(validate({ chdir: "/" })).toBe(true);
    expect(validate({ cmd: "true", creates: true })).toBe(true);
    expect(validate({ cmd: "ls", nope: 1 })).toBe(false);
  });

  it("fails before touching the host as Ansible's does: no command, or a string and argv", () => {
    expect(commandModule.refuse?.({ chdir: "/" })).toMatchObject({
      failed: true,
      rc: 256,
      msg: "no command given",
      cmd: null,
    });
    expect(commandModule.refuse?.({ cmd: "  " })).toMatchObject({ msg: "no command given" });
    expect(commandModule.refuse?.({ cmd: "echo a", argv: ["echo", "a"] })).toMatchObject({
      msg: "only command or argv can be given, not both",
    });
    expect(commandModule.refuse?.({ cmd: "ls" })).toBeUndefined();
    expect(commandModule.normalize?.({ cmd: "true", creates: true as unknown as string })).toEqual({
      cmd: "true",
      creates: "True",
    });
  });
});

describe("command on a local host", () => {
  const host = new LocalConnection();
  const ctx = coreContext();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-command-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs once, then creates guards it (relative to chdir)", async () => {
    const args = { cmd: "touch made", chdir: dir, creates: "made" };
    const before = await commandModule.probe(host, args, ctx);
    expect(commandModule.plan(args, before)).toEqual([{ target: "touch made", summary: "run: touch made" }]);
    const result = await commandModule.apply(host, args, ctx);
    expect(result).toMatchObject({ rc: 0, cmd: ["touch", "made"] });
    expect(result.failed).toBeUndefined();
    const after = await commandModule.probe(host, args, ctx);
    expect(commandModule.plan(args, after)).toEqual([]);
    expect(commandModule.report?.(args, after)).toMatchObject({
      msg: "Did not run command since 'made' exists",
      stdout: "skipped, since made exists",
      rc: 0,
    });
  });

  it("globs creates, relative to chdir", async () => {
    await writeFile(join(dir, "globbed.txt"), "");
    const args = { cmd: "true", chdir: dir, creates: "glob*.txt" };
    expect(commandModule.plan(args, await commandModule.probe(host, args, ctx))).toEqual([]);
    const none = { cmd: "true", chdir: dir, creates: "no*such ?" };
    expect(commandModule.plan(none, await commandModule.probe(host, none, ctx))).toHaveLength(1);
  });

  it("fails clearly when chdir does not exist", async () => {
    const missing = join(dir, "nope");
    const message = `Unable to change directory before execution: [Errno 2] No such file or directory: b'${missing}'`;
    await expect(
      commandModule.probe(host, { cmd: "true", chdir: missing, creates: "x" }, ctx),
    ).rejects.toThrow(message);
    const result = await commandModule.apply(host, { cmd: "true", chdir: missing }, ctx);
    // Ansible's: the message, no rc (the command never ran)
    expect(result).toMatchObject({ failed: true, msg: message, cmd: ["true"] });
    expect(result.rc).toBeUndefined();
  });

  it("strips the trailing newline and splits lines", async () => {
    const result = await commandModule.apply(host, { cmd: "printf 'a\\nb\\n\\n'" }, ctx);
    expect(result).toMatchObject({ rc: 0, stdout: "a\nb", stdout_lines: ["a", "b"], stderr_lines: [] });
  });

  it("uses no shell: operators and globs are plain arguments", async () => {
    const out = join(dir, "out");
    const result = await commandModule.apply(host, { cmd: `echo a | wc > ${out} *` }, ctx);
    expect(result.stdout).toBe(`a | wc > ${out} *`);
    await expect(readFile(out)).rejects.toThrow();
  });

  it("expands $VARS and ~ like Ansible's command module (parity with ansible-core)", async () => {
    const cmd = `echo $HOME ~ $TICKLESS_UNSET \${HOME}x a~b "~/q" 'x  $HOME' a|b;c *.txt "\\$HOME"`;
    const ours = await commandModule.apply(host, { cmd }, ctx);
    const ansible = await host.run(`ansible localhost -c local -m command -a ${quote([cmd])}`, {
      env: { ANSIBLE_LOCALHOST_WARNING: "false", ANSIBLE_NOCOLOR: "1" },
    });
    expect(ansible.rc).toBe(0);
    expect(ours.stdout).toBe(ansible.stdout.split(">>\n")[1].replace(/\n$/, ""));
    expect(ours.stdout).toContain("$TICKLESS_UNSET");
  });

  it("takes argv and stdin", async () => {
    const result = await commandModule.apply(host, { argv: ["cat", "-"], stdin: "in put" }, ctx);
    expect(result.stdout).toBe("in put");
    const raw = await commandModule.apply(
      host,
      { argv: ["od", "-c"], stdin: "x", stdin_add_newline: false },
      ctx,
    );
    expect(raw.stdout).not.toContain("\\n");
  });

  it("fails on a non-zero return code with stderr", async () => {
    const result = await commandModule.apply(host, { cmd: `ls ${join(dir, "missing")}` }, ctx);
    expect(result).toMatchObject({ failed: true, msg: "non-zero return code", rc: 2 });
    expect(result.stderr).toContain("missing");
  });

  it("reports rc 127 for an unknown program", async () => {
    const result = await commandModule.apply(host, { cmd: "tickless-no-such-program" }, ctx);
    expect(result).toMatchObject({ failed: true, rc: 127 });
  });
});
