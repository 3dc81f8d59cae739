/**
 * The prediction of a regenerated grub.cfg (grub-predict.ts): the generator command pointed at
 * another output, and the generator run in a private mount namespace on a temp tree with the local
 * connection (as root, like kernel_cmdline on a host): the grub-mkconfig fixture's bytes for the
 * planned defaults; a generator that fails, writes nothing at its output, or writes anywhere else
 * (it meets a read-only file system) gives a reason, never bytes, and the tree is unchanged. Through
 * the module, a check run whose grub.cfg cannot be predicted reports the task unpredictable.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import {
  generatorCommand,
  parsePrediction,
  predictGrubCfg,
} from "../../../src/modules/isolation/grub-predict.js";
import { byStatus, hashTree, localInventory, removeDir, run, tempDir } from "../../e2e/helpers.js";

const FIXTURE = path.join(import.meta.dirname, "../../isolation/fixtures/grub-mkconfig.sh");

describe("generatorCommand", () => {
  const cases: [string, string | undefined][] = [
    ["update-grub", "update-grub -o /d/out"],
    ["grub2-mkconfig -o /boot/grub2/grub.cfg", "grub2-mkconfig -o /d/out"],
    ["grub-mkconfig --output=/boot/grub/grub.cfg", "grub-mkconfig -o /d/out"],
    ["grub-mkconfig --output /boot/grub/grub.cfg", "grub-mkconfig -o /d/out"],
    [
      "GRUB_MKCONFIG_SYSCONFDIR=/r/etc sh '/opt/a b/mk.sh' -o /r/boot/grub/grub.cfg",
      "GRUB_MKCONFIG_SYSCONFDIR=/r/etc sh '/opt/a b/mk.sh' -o /d/out",
    ],
    ["update-grub && reboot", undefined],
    ["update-grub > /var/log/grub.log", undefined],
    ["update-grub; true", undefined],
    ["$UPDATE_GRUB", undefined],
    ["`which update-grub`", undefined],
    ["A=1", undefined],
  ];
  test.each(cases)("%s", (command, expected) => {
    expect(generatorCommand(command, "/d/out")).toBe(expected);
  });
});

describe("parsePrediction", () => {
  test("the bytes, a reason, or what unshare said", () => {
    const bytes = Buffer.from("menuentry 'x' {\n}\n").toString("base64");
    expect(parsePrediction({ rc: 0, stdout: `@@generated\n${bytes}\n`, stderr: "" })).toEqual({
      content: "menuentry 'x' {\n}\n",
    });
    expect(
      parsePrediction({ rc: 0, stdout: "@@unpredictable the generator failed (rc 1):\n x\n", stderr: "" }),
    ).toEqual({ unpredictable: "the generator failed (rc 1): x" });
    expect(
      parsePrediction({ rc: 1, stdout: "", stderr: "unshare: unshare failed: Operation not permitted\n" }),
    ).toEqual({
      unpredictable:
        "a private mount namespace for the generator (unshare --mount) failed: unshare: unshare failed: Operation not permitted",
    });
  });
});

describe("on a temp tree, as root", () => {
  const host = new LocalConnection();
  let base: string;
  let root: string;
  beforeAll(async () => {
    base = await tempDir("tickless-grub-predict-");
    root = path.join(base, "h1");
    await mkdir(path.join(root, "etc/default/grub.d"), { recursive: true });
    await mkdir(path.join(root, "boot/grub"), { recursive: true });
    await writeFile(path.join(root, "etc/default/grub"), 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n');
    await writeFile(path.join(root, "etc/default/grub.d/50-old.cfg"), 'GRUB_CMDLINE_LINUX="nohz_full=3"\n');
    await writeFile(path.join(root, "etc/default/keep"), "not grub's\n");
    await writeFile(path.join(root, "boot/grub/grub.cfg"), "the host's grub.cfg\n");
  });
  afterAll(async () => {
    if (base) await removeDir(base);
  });
  const settings = (mkconfig: string) => ({
    grubDefault: path.join(root, "etc/default/grub"),
    grubD: path.join(root, "etc/default/grub.d"),
    grubCfg: path.join(root, "boot/grub/grub.cfg"),
    mkconfig,
  });
  const fixture = (env = "") =>
    `${env}GRUB_MKCONFIG_SYSCONFDIR=${root}/etc sh ${FIXTURE} -o ${root}/boot/grub/grub.cfg`;
  const planned = () => [
    { path: path.join(root, "etc/default/grub"), content: 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n' },
    // removed by the plan, and a snippet it adds
    { path: path.join(root, "etc/default/grub.d/50-old.cfg"), content: null },
    {
      path: path.join(root, "etc/default/grub.d/99-tickless.cfg"),
      content: 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX isolcpus=4"\n',
    },
  ];

  test("the fixture's grub.cfg for the planned defaults; the tree is unchanged", async () => {
    const before = await hashTree(root);
    const got = await predictGrubCfg(host, settings(fixture()), planned());
    expect(await hashTree(root)).toEqual(before);
    if (!("content" in got)) throw new Error(got.unpredictable);
    const linux = got.content.split("\n").filter((l) => l.includes("vmlinuz"));
    expect(linux.length).toBeGreaterThan(0);
    // the removed snippet's nohz_full=3 is gone, the planned isolcpus=4 is there
    for (const l of linux) expect(l).toMatch(/ ro( single)?\s+isolcpus=4( quiet)?$/);
    // the same bytes as the fixture writes from those files on disk
    const copy = path.join(base, "copy");
    await mkdir(path.join(copy, "etc/default/grub.d"), { recursive: true });
    await writeFile(path.join(copy, "etc/default/grub"), planned()[0].content ?? "");
    await writeFile(path.join(copy, "etc/default/grub.d/99-tickless.cfg"), planned()[2].content ?? "");
    const out = path.join(copy, "grub.cfg");
    expect((await host.run(`GRUB_MKCONFIG_SYSCONFDIR=${copy}/etc sh ${FIXTURE} -o ${out}`)).rc).toBe(0);
    expect(got.content).toBe(await readFile(out, "utf8"));
  });

  test("a generator that writes outside its output meets a read-only file system: a reason, nothing written", async () => {
    const rogue = path.join(base, "rogue.sh");
    await writeFile(rogue, `echo overwritten > ${root}/boot/grub/grub.cfg\n`);
    const before = await hashTree(root);
    const got = await predictGrubCfg(host, settings(`sh ${rogue}`), planned());
    expect(got).toEqual({
      unpredictable: expect.stringMatching(/^the generator failed \(rc 2\): .*Read-only file system/),
    });
    expect(await hashTree(root)).toEqual(before);
    expect(await readFile(path.join(root, "boot/grub/grub.cfg"), "utf8")).toBe("the host's grub.cfg\n");
  });

  test("a generator that fails, or writes nothing at its output, gives the reason", async () => {
    expect(
      await predictGrubCfg(host, settings(fixture("GRUB_MKCONFIG_FIXTURE_FAIL=boom ")), planned()),
    ).toEqual({
      unpredictable: "the generator failed (rc 1): grub-mkconfig (fixture): boom",
    });
    expect(await predictGrubCfg(host, settings("true"), planned())).toEqual({
      unpredictable: "the generator wrote nothing at the output it was given",
    });
    expect(await predictGrubCfg(host, settings("update-grub | tee log"), planned())).toEqual({
      unpredictable:
        "`update-grub | tee log` is not one simple command whose output can be pointed elsewhere (-o)",
    });
  });

  test("through the module: a check run that cannot predict grub.cfg reports the task unpredictable, naming why", async () => {
    const play = path.join(base, "play.yml");
    const ARGS = `params: "isolcpus=4", snippet: "{{ root }}/etc/default/grub.d/99-tickless.cfg", grub_cfg: "{{ root }}/boot/grub/grub.cfg", proc_root: "{{ root }}/proc", state_file: "{{ root }}/state.json", mkconfig_command: "sh ${FIXTURE} -o {{ root }}/boot/grub/grub.cfg && true"`;
    await mkdir(path.join(root, "proc"), { recursive: true });
    await writeFile(path.join(root, "proc/cmdline"), "BOOT_IMAGE=/vmlinuz ro quiet\n");
    await writeFile(
      play,
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: the kernel parameters\n      kernel_cmdline: { ${ARGS} }\n`,
    );
    await writeFile(path.join(base, "inventory.yml"), localInventory(base, ["h1"]));
    const before = await hashTree(root);
    const check = await run({ playbook: play, inventory: path.join(base, "inventory.yml"), check: true });
    expect(await hashTree(root)).toEqual(before);
    expect(check.summary.exitCode).toBe(0);
    expect(byStatus(check, "unpredictable")).toEqual(["h1:the kernel parameters"]);
    const result = check.results.find((r) => r.task === "the kernel parameters")?.result;
    expect(String(result?.msg)).toBe(
      `unpredictable in check mode: ${root}/boot/grub/grub.cfg as regenerated: \`sh ${FIXTURE} -o ${root}/boot/grub/grub.cfg && true\` is not one simple command whose output can be pointed elsewhere (-o)`,
    );
    // the defaults' changes are still listed; grub.cfg's without bytes, never a guessed diff
    const cfg = result?.changes?.find((c) => c.target.endsWith("/boot/grub/grub.cfg"));
    expect(cfg?.after).toBeUndefined();
    expect(result?.changes?.map((c) => c.target.slice(root.length))).toEqual([
      "/etc/default/grub.d/99-tickless.cfg",
      "/boot/grub/grub.cfg",
    ]);
    const recap = check.events.find((e) => e.type === "recap");
    if (recap?.type !== "recap") throw new Error("no recap");
    expect(recap.check?.unpredictable).toEqual([
      `h1: the kernel parameters (${root}/boot/grub/grub.cfg as regenerated: \`sh ${FIXTURE} -o ${root}/boot/grub/grub.cfg && true\` is not one simple command whose output can be pointed elsewhere (-o))`,
    ]);
  });
});
