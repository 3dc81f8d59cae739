/**
 * A write with `validate` on each connection (local, and SSH where plain writes take SFTP): the
 * command runs on the temp file, with its mode set, before the rename; a rejection leaves the
 * target's bytes and mode as they were, no temp file behind, and reports the command's exit code
 * and output.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openLocal } from "../../src/connection/local.js";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { ValidateError } from "../../src/connection/validate.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";

const lab = sharedLab();

async function contract(c: Connection, dir: string) {
  const target = `${dir}/sudoers`;
  await c.writeFile(target, "original\n", { mode: "0440" });

  // rejected: the command's rc, stdout and stderr; the target as it was; no temp file left
  const err = await c
    .writeFile(target, "bad\n", { validate: "sh -c 'echo out; echo why >&2; exit 4' %s" })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidateError);
  expect(err).toMatchObject({ rc: 4, stdout: "out\n", stderr: "why\n", message: "failed to validate" });
  const kept = await c.readFile(target);
  expect(kept.content?.toString()).toBe("original\n");
  expect(kept.mode).toBe("0440");
  expect((await c.run(`ls -A ${dir}`)).stdout).toBe("sudoers\n");

  // accepted: the command saw the new bytes and the mode asked for, at a path beside the target
  const check = `sh -c 'grep -qx good "$0" && test "$(stat -c %%a "$0")" = 600 && test "$(dirname "$0")" = ${dir}' %s`;
  await c.writeFile(target, "good\n", { mode: "0600", validate: check });
  const written = await c.readFile(target);
  expect(written.content?.toString()).toBe("good\n");
  expect(written.mode).toBe("0600");

  // words are split as a shell would not: no globbing, no expansion
  await c.writeFile(target, "x\n", { validate: "test -f %s -a '$HOME *' = '$HOME *'" });
  expect((await c.readFile(target)).content?.toString()).toBe("x\n");
  expect((await c.run(`ls -A ${dir}`)).stdout).toBe("sudoers\n");
}

describe("local", () => {
  let dir: string;
  let c: Connection;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-validate-"));
    c = await openLocal({ host: "local", transport: "local" });
  });
  afterAll(async () => {
    await c.close();
    await rm(dir, { recursive: true, force: true });
  });
  test("validate runs on the temp file before the rename", () => contract(c, dir));
});

describe.skipIf(!lab)("ssh on the lab", () => {
  let c: Connection;
  let release: () => Promise<void>;
  beforeAll(async () => {
    ({ release } = await isolateHome());
    c = await openSsh(labSettings(lab!, lab!.hosts[0]));
  });
  afterAll(async () => {
    await c.close();
    await release();
  });
  test("validate runs on the temp file before the rename", async () => {
    const dir = (await c.run("mktemp -d /tmp/validate.XXXXXX")).stdout.trim();
    await contract(c, dir);
  });
});
