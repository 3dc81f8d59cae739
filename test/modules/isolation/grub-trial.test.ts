/**
 * kernel_cmdline's trial boot, decided from canned state (no host): which entry is copied, what the
 * trial block holds, and the plan in each case (fresh, prepared, came back without, came back with).
 * The boot itself is proven on the VM (test/vm/trial-boot.test.ts).
 */
import { describe, expect, test } from "vitest";
import { formatError } from "../../../src/errors.js";
import { parseParams } from "../../../src/modules/isolation/grub-cmdline.js";
import {
  leftoverRemoval,
  linuxEntries,
  planTrial,
  renderTrial,
  type TrialState,
  trialBlock,
  withoutTrial,
} from "../../../src/modules/isolation/grub-trial.js";
import {
  type KernelCmdlineState,
  kernelCmdlineModule,
  kernelCmdlineSettings,
  planKernelCmdline,
} from "../../../src/modules/isolation/kernel_cmdline.js";

/** The parts of a Debian bookworm grub.cfg that matter: a simple entry, the advanced submenu, 41_custom. */
const GRUB_CFG = `### BEGIN /etc/grub.d/00_header ###
if [ -s $prefix/grubenv ]; then
  set have_grubenv=true
  load_env
fi
if [ "\${next_entry}" ] ; then
   set default="\${next_entry}"
   set next_entry=
   save_env next_entry
   set boot_once=true
else
   set default="0"
fi
### END /etc/grub.d/00_header ###
### BEGIN /etc/grub.d/10_linux ###
function gfxmode {
	set gfxpayload="\${1}"
}
menuentry 'Debian GNU/Linux' --class debian --class gnu-linux --class gnu --class os $menuentry_id_option 'gnulinux-simple-0e5f' {
	load_video
	insmod gzio
	if [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi
	insmod part_msdos
	insmod ext2
	set root='hd0,msdos1'
	search --no-floppy --fs-uuid --set=root 0e5f
	echo	'Loading Linux 6.1.0-28-amd64 ...'
	linux	/boot/vmlinuz-6.1.0-28-amd64 root=UUID=0e5f ro  console=ttyS0,115200
	echo	'Loading initial ramdisk ...'
	initrd	/boot/initrd.img-6.1.0-28-amd64
}
submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-0e5f' {
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-28-amd64' --class debian $menuentry_id_option 'gnulinux-6.1.0-28-amd64-advanced-0e5f' {
		load_video
		linux	/boot/vmlinuz-6.1.0-28-amd64 root=UUID=0e5f ro  console=ttyS0,115200
		initrd	/boot/initrd.img-6.1.0-28-amd64
	}
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-28-amd64 (recovery mode)' --class debian $menuentry_id_option 'gnulinux-6.1.0-28-amd64-recovery-0e5f' {
		load_video
		linux	/boot/vmlinuz-6.1.0-28-amd64 root=UUID=0e5f ro single console=ttyS0,115200
		initrd	/boot/initrd.img-6.1.0-28-amd64
	}
}
### END /etc/grub.d/10_linux ###
### BEGIN /etc/grub.d/41_custom ###
if [ -f  \${config_directory}/custom.cfg ]; then
  source \${config_directory}/custom.cfg
elif [ -z "\${config_directory}" -a -f  $prefix/custom.cfg ]; then
  source $prefix/custom.cfg
fi
### END /etc/grub.d/41_custom ###
`;
const CMDLINE = "BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=0e5f ro console=ttyS0,115200";
const PARAMS = parseParams("isolcpus=4 nohz_full=4 rcu_nocbs=4");
const CFG = { path: "/boot/grub/grub.cfg", content: GRUB_CFG };
const BOOT_A = "8c6d1e0a-aaaa";
const BOOT_B = "3f2b9c11-bbbb";

function trial(custom = "", bootId = BOOT_A): TrialState {
  return {
    custom: { path: "/boot/grub/custom.cfg", exists: custom !== "", content: custom },
    bootId,
    grubReboot: "grub-reboot",
    timeout: 900,
  };
}
const FINAL = [
  { target: "/etc/default/grub.d/99-tickless.cfg", summary: "add isolcpus=4 nohz_full=4 rcu_nocbs=4" },
  { target: "/boot/grub/grub.cfg", summary: "regenerate with `update-grub` (defaults changed)" },
];

describe("the trial entry", () => {
  test("grub.cfg's Linux entries, submenus' included", () => {
    expect(linuxEntries(GRUB_CFG).map((e) => e.args.map((a) => a.key).join(" "))).toEqual([
      "root ro console",
      "root ro console",
      "root ro single console",
    ]);
  });

  test("is the running entry with the params, under the id grub-reboot names, between markers", () => {
    const block = renderTrial(GRUB_CFG, CFG.path, CMDLINE, PARAMS, BOOT_A);
    expect(block.split("\n")).toEqual([
      "### BEGIN tickless trial boot ###",
      `# prepared in boot ${BOOT_A} by tickless kernel_cmdline: booted once (grub-reboot tickless-trial), then removed.`,
      "menuentry 'tickless trial: /boot/vmlinuz-6.1.0-28-amd64 isolcpus=4 nohz_full=4 rcu_nocbs=4' --id tickless-trial {",
      "\tload_video",
      "\tinsmod gzio",
      "\tif [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi",
      "\tinsmod part_msdos",
      "\tinsmod ext2",
      "\tset root='hd0,msdos1'",
      "\tsearch --no-floppy --fs-uuid --set=root 0e5f",
      "\techo\t'Loading Linux 6.1.0-28-amd64 ...'",
      "\tlinux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=0e5f ro console=ttyS0,115200 isolcpus=4 nohz_full=4 rcu_nocbs=4",
      "\techo\t'Loading initial ramdisk ...'",
      "\tinitrd\t/boot/initrd.img-6.1.0-28-amd64",
      "}",
      "### END tickless trial boot ###",
      "",
    ]);
    expect(trialBlock(block)).toEqual({ preparedIn: BOOT_A });
  });

  test("an operator's custom.cfg keeps its bytes: the block goes after them and comes out exactly", () => {
    const own = "menuentry 'memtest' {\n\tlinux16 /boot/memtest86+.bin\n}\n";
    const withBlock = own + renderTrial(GRUB_CFG, CFG.path, CMDLINE, PARAMS, BOOT_A);
    expect(withoutTrial(withBlock)).toBe(own);
    expect(withoutTrial(own)).toBe(own);
    expect(trialBlock(own)).toBeUndefined();
  });

  test("an entry that is not the running one is never copied: no match is refused with a hint", () => {
    const other = "BOOT_IMAGE=/boot/vmlinuz-6.1.0-99-amd64 root=UUID=0e5f ro console=ttyS0,115200";
    expect(() => renderTrial(GRUB_CFG, CFG.path, other, PARAMS, BOOT_A)).toThrow(
      /no entry of \/boot\/grub\/grub.cfg boots what runs now \(BOOT_IMAGE=\/boot\/vmlinuz-6.1.0-99-amd64/,
    );
    const noCustom = GRUB_CFG.replace(/### BEGIN \/etc\/grub.d\/41_custom[\s\S]*$/, "");
    try {
      renderTrial(noCustom, CFG.path, CMDLINE, PARAMS, BOOT_A);
      expect.unreachable();
    } catch (err) {
      expect(formatError(err)).toMatch(/does not source custom.cfg[\s\S]*hint: .*trial_boot: false/);
    }
  });
});

describe("plan", () => {
  const targets = (c: { target: string }[]) => c.map((x) => x.target);

  test("fresh: trial entry, the one-shot boot, then the defaults", () => {
    const plan = planTrial(trial(), CFG, CMDLINE, PARAMS, FINAL);
    expect(targets(plan)).toEqual([
      "/boot/grub/custom.cfg",
      "tickless-trial:boot",
      "/etc/default/grub.d/99-tickless.cfg",
      "/boot/grub/grub.cfg",
    ]);
    expect(plan[1].summary).toBe(
      "boot it once (`grub-reboot tickless-trial`, reboot, 900 s to come back with isolcpus=4 nohz_full=4 rcu_nocbs=4); the defaults change only then",
    );
    expect(plan[0].before).toBe("");
    expect(trialBlock(plan[0].after ?? "")).toEqual({ preparedIn: BOOT_A });
  });

  test("nothing to change: no trial; the running kernel already has the params: the defaults directly", () => {
    expect(planTrial(trial(), CFG, CMDLINE, PARAMS, [])).toEqual([]);
    const running = `${CMDLINE} isolcpus=4 nohz_full=4 rcu_nocbs=4`;
    expect(targets(planTrial(trial(), CFG, running, PARAMS, FINAL))).toEqual(targets(FINAL));
  });

  test("a block from this boot (prepared, never booted) is replaced; one from an earlier boot that came back without the params is removed, no new trial", () => {
    const prepared = renderTrial(GRUB_CFG, CFG.path, CMDLINE, PARAMS, BOOT_A);
    const again = planTrial(trial(prepared, BOOT_A), CFG, CMDLINE, PARAMS, FINAL);
    expect(targets(again)).toEqual(targets(planTrial(trial(), CFG, CMDLINE, PARAMS, FINAL)));
    expect(again[0].after).toBe(prepared);

    const failed = planTrial(trial(prepared, BOOT_B), CFG, CMDLINE, PARAMS, FINAL);
    expect(failed).toEqual([
      {
        target: "/boot/grub/custom.cfg",
        summary: `remove the trial entry: its boot (prepared in boot ${BOOT_A}) came back without isolcpus=4 nohz_full=4 rcu_nocbs=4; the GRUB defaults are left as they are`,
        before: prepared,
        after: "",
      },
    ]);
  });

  test("absent and restored remove a trial entry left behind, and only that", () => {
    const own = "menuentry 'memtest' {\n\tlinux16 /boot/memtest86+.bin\n}\n";
    const left = own + renderTrial(GRUB_CFG, CFG.path, CMDLINE, PARAMS, BOOT_A);
    expect(leftoverRemoval(trial(left))).toEqual([
      {
        target: "/boot/grub/custom.cfg",
        summary: "remove the trial entry left by an earlier run",
        before: left,
        after: own,
      },
    ]);
    expect(leftoverRemoval(trial(own))).toEqual([]);
  });

  test("a trial that came up but whose run ended before the commit: the block goes and the defaults change", () => {
    const prepared = renderTrial(GRUB_CFG, CFG.path, CMDLINE, PARAMS, BOOT_A);
    const running = `${CMDLINE} isolcpus=4 nohz_full=4 rcu_nocbs=4`;
    const plan = planTrial(trial(prepared, BOOT_B), CFG, running, PARAMS, FINAL);
    expect(plan.map((c) => c.summary)[0]).toBe("remove the trial entry left by an earlier run");
    expect(targets(plan)).toEqual(["/boot/grub/custom.cfg", ...targets(FINAL)]);
  });

  test("the module: trial_boot for every method (grubby's in grubby-trial.test.ts; restored and absent look for a leftover); the schema takes a boolean", () => {
    const state: KernelCmdlineState = {
      method: "snippet",
      file: { path: "/etc/default/grub.d/99-tickless.cfg", exists: false, content: "" },
      sources: [
        { path: "/etc/default/grub", content: "" },
        { path: "/etc/default/grub.d/99-tickless.cfg", content: "" },
      ],
      modes: { "/etc/default/grub": "0644" },
      save: { path: "/var/lib/tickless/kernel-cmdline.json", exists: false, data: { version: 1, files: {} } },
      grubCfg: { path: CFG.path, exists: true, content: GRUB_CFG },
      mkconfig: "update-grub",
      cmdline: CMDLINE,
      trial: trial(),
    };
    const plan = planKernelCmdline({ params: "isolcpus=4 nohz_full=4 rcu_nocbs=4", trial_boot: true }, state);
    expect(targets(plan)).toEqual([
      "/boot/grub/custom.cfg",
      "tickless-trial:boot",
      "/etc/default/grub.d/99-tickless.cfg",
      "/boot/grub/grub.cfg",
    ]);
    const on = (over: object) =>
      kernelCmdlineSettings({ params: "isolcpus=4", trial_boot: true, ...over }, {}).trial;
    expect([
      on({}),
      on({ method: "grub_default" }),
      on({ method: "grubby" }),
      on({ state: "restored" }),
    ]).toEqual([true, true, true, true]);
    expect(on({ trial_boot: false })).toBe(false);
    // the report says so (isolation.yml's reboot task then stays out of check mode's plan)
    const args = { params: "isolcpus=4 nohz_full=4 rcu_nocbs=4", trial_boot: true };
    expect(kernelCmdlineModule.report?.(args, state)).toMatchObject({
      reboot_required: true,
      trial_boot: "planned",
    });
    const running = { ...state, cmdline: `${CMDLINE} isolcpus=4 nohz_full=4 rcu_nocbs=4` };
    expect(kernelCmdlineModule.report?.(args, running)).not.toHaveProperty("trial_boot");
    const schema = kernelCmdlineModule.args as { properties: Record<string, unknown> };
    expect(schema.properties.trial_boot).toEqual({ type: "boolean" });
  });
});
