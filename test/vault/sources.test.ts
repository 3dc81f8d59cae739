import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadVaultSecrets, type VaultSources } from "../../src/vault/index.js";

describe("vault password sources", () => {
  let dir: string;
  const f = (name: string) => path.join(dir, name);
  const text = (secrets: { id: string; password: Buffer }[]) => secrets.map((s) => `${s.id}=${s.password}`);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tickless-vault-src-"));
    await writeFile(f("spaced"), "  \t spaced password \n\n");
    await writeFile(f("empty"), " \n");
    await writeFile(f("script.sh"), "#!/bin/sh\nprintf '  kept spaces  \\r\\n'\n", { mode: 0o755 });
    await writeFile(f("prod-client.sh"), '#!/bin/sh\necho "asked for $1 $2"\n', { mode: 0o755 });
    await writeFile(f("failing.sh"), "#!/bin/sh\nexit 3\n", { mode: 0o755 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("a file's content is stripped; a script's stdout loses only its line ends (as Ansible)", async () => {
    expect(text(await loadVaultSecrets({ passwordFiles: [f("spaced")] }))).toEqual([
      "default=spaced password",
    ]);
    expect(text(await loadVaultSecrets({ ids: [`s@${f("script.sh")}`] }))).toEqual(["s=  kept spaces  "]);
  });

  it("~/ is the home directory, as Ansible expands it", async () => {
    const home = process.env.HOME;
    process.env.HOME = dir;
    try {
      expect(text(await loadVaultSecrets({ passwordFiles: ["~/spaced"] }, "/"))).toEqual([
        "default=spaced password",
      ]);
    } finally {
      process.env.HOME = home;
    }
  });

  it("a *-client script is asked for its vault id", async () => {
    expect(text(await loadVaultSecrets({ ids: [`prod@${f("prod-client.sh")}`] }))).toEqual([
      "prod=asked for --vault-id prod",
    ]);
  });

  it("vault ids come first, then password files, then the prompt; `prompt` as a source asks too", async () => {
    const asked: string[] = [];
    const prompt = async (q: string) => {
      asked.push(q);
      return ` typed-${asked.length} `;
    };
    const secrets = await loadVaultSecrets({
      passwordFiles: [f("spaced")],
      ids: [`a@${f("script.sh")}`, "b@prompt"],
      askPass: true,
      prompt,
    });
    expect(text(secrets)).toEqual([
      "a=  kept spaces  ",
      "b=typed-1",
      "default=spaced password",
      "default=typed-2",
    ]);
    expect(asked).toEqual(["Vault password (b): ", "Vault password: "]);
  });

  it.each<[string, VaultSources, RegExp]>([
    ["an empty file", { passwordFiles: ["empty"] }, /Invalid vault password was provided from file/],
    ["a missing file", { passwordFiles: ["missing"] }, /The vault password file .* was not found/],
    ["a failing script", { ids: ["failing.sh"] }, /returned non-zero/],
    ["a prompt without a terminal", { askPass: true }, /needs a terminal/],
  ])("%s is a bad option", async (_, sources, message) => {
    const resolved = {
      ...sources,
      passwordFiles: sources.passwordFiles?.map(f),
      ids: sources.ids?.map(f),
    };
    await expect(loadVaultSecrets(resolved)).rejects.toMatchObject({
      code: "BAD_OPTION",
      message: expect.stringMatching(message),
    });
  });
});
