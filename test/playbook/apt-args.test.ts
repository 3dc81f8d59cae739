/** apt's and package's arguments are checked when the playbook is loaded: what tickless does not run is refused there, located. */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultRegistry } from "../../src/modules/registry.js";
import { validatePlaybook } from "../../src/playbook/index.js";
import { removeDir, testdir } from "../support/fs.js";

async function errorsOf(task: string) {
  const dir = await testdir({ "p.yml": `- hosts: all\n  tasks:\n    - name: t\n      ${task}\n` });
  const result = await validatePlaybook(path.join(dir, "p.yml"), { registry: defaultRegistry() });
  await removeDir(dir);
  return result.errors;
}

describe("apt and package at load time", () => {
  it.each([
    "apt: name=acl",
    "apt: { pkg: [acl, 'tickless-dummy=1.0'], state: latest, update_cache: true, cache_valid_time: 3600 }",
    "apt: { name: acl, state: absent, purge: true, autoremove: true }",
    "apt: { deb: /tmp/x.deb, force: true, allow_downgrade: true }",
    "apt: { update-cache: yes }",
    "ansible.builtin.apt: { package: 'a,b', install_recommends: false, lock_timeout: 10 }",
    "package: { name: acl, state: present }",
    "ansible.builtin.package: { name: acl, use: apt, update_cache: true }",
    "apt: { name: '{{ pkgs }}', state: '{{ wanted }}' }",
  ])("accepts %s", async (task) => {
    expect(await errorsOf(task)).toEqual([]);
  });

  it.each([
    ["apt: { name: acl, upgrade: dist }", /unknown argument "upgrade" for module apt/],
    ["apt: { name: acl, default_release: bookworm }", /unknown argument "default_release" for module apt/],
    ["apt: { name: acl, policy_rc_d: 101 }", /unknown argument "policy_rc_d" for module apt/],
    ["apt: { name: acl, state: build-dep }", /argument "state" of apt: expected present, absent or latest/],
    ["apt: { name: acl, state: fixed }", /does not run build-dep or fixed/],
    ["apt: { name: 'acl>=2.0' }", /name>=version is not taken/],
    ["apt: { deb: /tmp/x.deb, name: acl }", /apt/],
    ["apt: { deb: 'https://example.org/x.deb' }", /does not download one from a URL/],
    ["apt: { state: present }", /expected one of name \(pkg, package\), deb, update_cache or autoremove/],
    ["package: { name: acl, use: zypper }", /argument "use" of package: expected auto, apt, dnf or yum/],
    ["package: { name: acl, provider: apt }", /unknown argument "provider" for module package/],
  ])("refuses %s, located", async (task, message) => {
    const errors = await errorsOf(task);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: "MODULE_ARGS",
      location: { file: expect.stringMatching(/p\.yml$/), line: 4 },
    });
    expect(errors[0].message).toMatch(message);
    expect(errors[0].hint).toBeTruthy();
  });
});
