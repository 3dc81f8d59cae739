/**
 * kernel_cmdline in a check run lists the grub.d snippets as the earlier tasks would leave them
 * (HostReader.plannedIn beside its glob), on a temp tree with the grub-mkconfig fixture: an operator's
 * snippet an earlier task would write, carrying one of the module's keys, is planned for too, one
 * it would remove is not read; the regenerated grub.cfg is predicted by the generator itself, run
 * on the planned defaults in a private mount namespace (grub-predict.ts), so a second task finds it
 * carrying the parameters and `stat` reads its planned bytes; and check mode predicts the real run
 * (predicts.ts).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { byStatus, hashTree, localInventory, removeDir, run, tempDir } from "../../e2e/helpers.js";
import { expectCheckPredicts } from "../../e2e/predicts.js";

const FIXTURE = path.join(import.meta.dirname, "../../isolation/fixtures/grub-mkconfig.sh");
const ARGS = `params: "isolcpus=4 nohz_full=4", snippet: "{{ root }}/etc/default/grub.d/99-tickless.cfg", grub_cfg: "{{ root }}/boot/grub/grub.cfg", proc_root: "{{ root }}/proc", state_file: "{{ root }}/var/lib/tickless/kernel-cmdline.json", mkconfig_command: "GRUB_MKCONFIG_SYSCONFDIR={{ root }}/etc sh ${FIXTURE} -o {{ root }}/boot/grub/grub.cfg"`;
const PLAY = `- hosts: all
  gather_facts: false
  tasks:
    - name: the vendor's snippet
      copy:
        dest: "{{ root }}/etc/default/grub.d/50-vendor.cfg"
        content: "GRUB_CMDLINE_LINUX=\\"$GRUB_CMDLINE_LINUX console=ttyS0 isolcpus=2\\"\\n"
    - name: a stale snippet goes
      file: { path: "{{ root }}/etc/default/grub.d/60-stale.cfg", state: absent }
    - name: the kernel parameters
      kernel_cmdline: { ${ARGS} }
    - name: the same again
      kernel_cmdline: { ${ARGS} }
    - name: grub.cfg as regenerated
      stat: { path: "{{ root }}/boot/grub/grub.cfg", get_checksum: true }
      register: cfg
    - name: its checksum
      debug: { msg: "{{ cfg.stat.checksum }}" }
`;

let base: string;
let root: string;
beforeAll(async () => {
  base = await tempDir("tickless-cmdline-planned-");
  root = path.join(base, "h1");
  await mkdir(path.join(root, "etc/default"), { recursive: true });
  await mkdir(path.join(root, "proc"), { recursive: true });
  await mkdir(path.join(root, "boot/grub"), { recursive: true });
  await writeFile(
    path.join(root, "etc/default/grub"),
    'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n',
  );
  await writeFile(
    path.join(root, "proc/cmdline"),
    "BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=UUID=1 ro quiet\n",
  );
  // a snippet the play removes: its parameter is not for the kernel any more
  await mkdir(path.join(root, "etc/default/grub.d"), { recursive: true });
  await writeFile(
    path.join(root, "etc/default/grub.d/60-stale.cfg"),
    'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX nohz_full=3"\n',
  );
  await writeFile(path.join(base, "inventory.yml"), localInventory(base, ["h1"]));
  await writeFile(path.join(base, "play.yml"), PLAY);
});
afterAll(async () => {
  if (base) await removeDir(base);
});

const play = (check: boolean) =>
  run({
    playbook: path.join(base, "play.yml"),
    inventory: path.join(base, "inventory.yml"),
    check,
    diff: true,
  });

describe("kernel_cmdline reads the grub.d snippets a check run planned", () => {
  test("the vendor's snippet an earlier task would write is planned for; check mode predicts the run", async () => {
    const { check, real } = await expectCheckPredicts({
      check: () => play(true),
      real: () => play(false),
      snapshot: () => hashTree(root),
      hosts: ["h1"],
      read: async (_h, p) => readFile(p, "utf8").catch(() => undefined),
    });
    const changes = check.results.find((e) => e.task === "the kernel parameters")?.result.changes ?? [];
    // the vendor's snippet is sourced before ours: its isolcpus= would be the kernel's second one
    expect(changes.map((c) => `${c.target.slice(root.length)}: ${c.summary}`)).toEqual([
      expect.stringMatching(
        /^\/var\/lib\/tickless\/kernel-cmdline\.json: save the original of .*\/50-vendor\.cfg /,
      ),
      "/etc/default/grub.d/50-vendor.cfg: drop its own isolcpus= (the kernel gets each once, from the snippet or the defaults)",
      "/etc/default/grub.d/99-tickless.cfg: add isolcpus=4 nohz_full=4",
      expect.stringMatching(/^\/boot\/grub\/grub\.cfg: regenerate /),
    ]);
    expect(byStatus(check, "changed")).toEqual([
      "h1:the vendor's snippet",
      "h1:a stale snippet goes",
      "h1:the kernel parameters",
    ]);
    // the removed snippet's nohz_full=3 is not the kernel's: only the parameters asked for are booted
    const cfg = await readFile(path.join(root, "boot/grub/grub.cfg"), "utf8");
    expect(cfg).not.toContain("nohz_full=3");
    const later = (r: typeof check, task: string) => r.results.find((e) => e.task === task);
    // grub.cfg's diff: nothing before (no grub.cfg yet), after the bytes the real run's generator wrote
    const regenerated = changes.find((c) => c.target.endsWith("/boot/grub/grub.cfg"));
    expect(regenerated?.before).toBeUndefined();
    expect(regenerated?.after).toBe(cfg);
    // the real run predicted it too (its diff) and says the generator wrote those bytes
    expect(later(real, "the kernel parameters")?.result).toMatchObject({
      regenerated: true,
      cfg_as_predicted: true,
    });
    expect(cfg).toMatch(/\tlinux\t\S+ root=\S+ ro\s+console=ttyS0 isolcpus=4 nohz_full=4 quiet\n/);
    // the later tasks read the planned grub.cfg: nothing to regenerate again, the real run's checksum
    expect(later(check, "the same again")?.status).toBe("ok");
    expect(later(check, "its checksum")?.result.msg).toBe(later(real, "its checksum")?.result.msg);
    expect(later(check, "its checksum")?.result.msg).toMatch(/^[0-9a-f]{40}$/);
  });
});
