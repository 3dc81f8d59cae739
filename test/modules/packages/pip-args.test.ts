/** pip's arguments with no host: the requirement strings Ansible's module builds, and load-time refusals. */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { normalizePip, recoverNames, requirementOf } from "../../../src/modules/packages/pip-args.js";
import { shlexSplit } from "../../../src/modules/packages/pip-host.js";
import { defaultRegistry } from "../../../src/modules/registry.js";
import { validatePlaybook } from "../../../src/playbook/index.js";
import { removeDir, testdir } from "../../support/fs.js";

describe("pip's requirements", () => {
  it("joins the parts the list conversion split, as _recover_package_name", () => {
    expect(recoverNames(["django>1.11.1", "<1.11.3", "ipaddress", "simpleproject>1.1.0", "<2.0.0"])).toEqual([
      "django>1.11.1,<1.11.3",
      "ipaddress",
      "simpleproject>1.1.0,<2.0.0",
    ]);
    expect(recoverNames(["django>1.11.1,<1.11.3,ipaddress", "pkg[a,b]>1"])).toEqual([
      "django>1.11.1,<1.11.3",
      "ipaddress",
      "pkg[a,b]>1",
    ]);
    expect(normalizePip({ name: "a==1,b" }).name).toEqual(["a==1", "b"]);
  });

  it("writes a requirement back as pkg_resources does, version appended", () => {
    expect(requirementOf("psutil==5.8.0")).toMatchObject({ text: "psutil==5.8.0", hasSpecifier: true });
    expect(requirementOf("pkg >= 1.0, <2").text).toBe("pkg<2,>=1.0");
    expect(requirementOf("Pkg[b,a]>1").text).toBe("Pkg[a,b]>1");
    expect(requirementOf("tickless-pkg", "1.0")).toMatchObject({
      text: "tickless-pkg==1.0",
      hasSpecifier: true,
    });
    expect(requirementOf("tickless-pkg", ">=1.0").text).toBe("tickless-pkg>=1.0");
    expect(requirementOf("git+https://example.org/x.git")).toMatchObject({
      plain: false,
      hasSpecifier: false,
    });
  });

  it("splits extra_args and virtualenv_command as shlex.split", () => {
    expect(shlexSplit('--no-index  --find-links \'/a b\' x\\ y "q\\"r"')).toEqual([
      "--no-index",
      "--find-links",
      "/a b",
      "x y",
      'q"r',
    ]);
    expect(shlexSplit("python3 -m venv")).toEqual(["python3", "-m", "venv"]);
  });

  it("takes Ansible's defaults", () => {
    expect(normalizePip({ requirements: "r.txt" })).toMatchObject({
      state: "present",
      virtualenv_command: "virtualenv",
      virtualenv_site_packages: false,
      editable: false,
    });
  });
});

describe("pip's arguments at load time", () => {
  it.each([
    ["pip: { name: psutil, requirements: r.txt }", /name|requirements/],
    ["pip: { name: psutil, executable: pip3, virtualenv: /v }", /executable|virtualenv/],
    ["pip: { state: present }", /name|requirements/],
    ["pip: { name: psutil, state: installed }", /state/],
    ["pip: { name: psutil, virtualenv_site: true }", /unknown argument "virtualenv_site" for module pip/],
  ])("%s is refused, located", async (task, words) => {
    const dir = await testdir({ "p.yml": `- hosts: all\n  tasks:\n    - name: t\n      ${task}\n` });
    const result = await validatePlaybook(path.join(dir, "p.yml"), { registry: defaultRegistry() });
    await removeDir(dir);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ code: "MODULE_ARGS", location: { line: 4 } });
    expect(`${result.errors[0].message} ${result.errors[0].hint ?? ""}`).toMatch(words);
  });

  it("loads Ansible's forms", async () => {
    const tasks = [
      "pip: name=psutil==5.8.0 state=forcereinstall extra_args='--no-index' umask=0022 chdir=/tmp",
      "pip: { name: [a, 'b>=1.0'], virtualenv: /v, virtualenv_command: python3 -m venv, editable: false }",
      "ansible.builtin.pip: { requirements: r.txt, executable: /v/bin/pip, version: 1 }",
    ];
    const body = tasks.map((t, i) => `    - name: t${i}\n      ${t}\n`).join("");
    const dir = await testdir({ "p.yml": `- hosts: all\n  tasks:\n${body}` });
    const result = await validatePlaybook(path.join(dir, "p.yml"), { registry: defaultRegistry() });
    await removeDir(dir);
    expect(result.errors).toEqual([]);
  });
});
