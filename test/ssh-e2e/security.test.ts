/** Host key checking through the CLI, and secrets (become passwords, no_log values) absent from every output. */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cli } from "../cli/helpers.js";
import { removeDir, tempDir, writeTree } from "../e2e/helpers.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { removeOnHosts, uniqueId, writeLabInventory } from "./helpers.js";

const lab = sharedLab();

const HOSTNAME_PLAYBOOK = `
- hosts: lab
  gather_facts: false
  tasks:
    - name: who
      command: hostname
      register: who
    - name: show
      debug: { msg: "host {{ who.stdout }}" }
`;

describe.skipIf(!lab)("host key checking through the CLI", () => {
  let dir: string;
  let releaseHome: () => Promise<void>;
  const playbook = () => join(dir, "site.yml");
  /** An inventory whose known_hosts file is `knownHosts`; extra vars for all hosts. */
  const inventory = (name: string, knownHosts: string, vars: Record<string, unknown> = {}) =>
    writeLabInventory(join(dir, `${name}.yml`), lab!, {
      vars,
      hosts: Object.fromEntries(lab!.hosts.map((h) => [h.name, { tickless_known_hosts_file: knownHosts }])),
    });

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    dir = await tempDir("tickless-ssh-keys-");
    await writeTree(dir, { "site.yml": HOSTNAME_PLAYBOOK });
  });
  afterAll(async () => {
    await removeDir(dir);
    await releaseHome();
  });

  test("strict refuses unknown hosts: UNREACHABLE, exit 4 (as ansible-playbook), and the message says how to add the key", async () => {
    const inv = await inventory("unknown", join(dir, "none"));
    const r = await cli(["run", playbook(), "-i", inv]);
    expect(r.code).toBe(4);
    for (const h of lab!.hosts) {
      const line = r.stdout.split("\n").find((l) => l.startsWith(`fatal: [${h.name}]: UNREACHABLE!`));
      expect(line).toContain(`the host key of [127.0.0.1]:${h.port} is not known`);
      expect(line).toContain(`ssh-keyscan -p ${h.port} 127.0.0.1 >> ~/.ssh/known_hosts`);
      expect(line).toContain("--host-key-checking accept-new");
    }
    expect(r.stdout).not.toContain("host lab");
  });

  test("a changed host key is refused naming the file and line of the old key", async () => {
    const file = join(dir, "changed_hosts");
    const [h1, h2, h3] = lab!.hosts;
    // lab1 listed with lab2's key on line 2: a changed key. The other hosts are right.
    await writeFile(
      file,
      `# known\n[127.0.0.1]:${h1.port} ${h2.hostKey}\n[127.0.0.1]:${h2.port} ${h2.hostKey}\n[127.0.0.1]:${h3.port} ${h3.hostKey}\n`,
    );
    const inv = await inventory("changed", file);
    for (const mode of ["strict", "accept-new"]) {
      const r = await cli(["run", playbook(), "-i", inv, "--host-key-checking", mode]);
      expect(r.code).toBe(4);
      const fatal = r.stdout.split("\n").filter((l) => l.includes("UNREACHABLE!"));
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toContain("fatal: [lab1]");
      expect(fatal[0]).toContain(`has CHANGED: it differs from the key at ${file}:2`);
      expect(r.stdout).toContain('"msg": "host lab2"');
      expect(r.stdout).toContain('"msg": "host lab3"');
    }
    expect(await readFile(file, "utf8")).toContain(`[127.0.0.1]:${h1.port} ${h2.hostKey}\n`);
  });

  test("accept-new records each new key; a strict run then accepts them", async () => {
    const file = join(dir, "accepted_hosts");
    const inv = await inventory("accept", file);
    const r = await cli(["run", playbook(), "-i", inv, "--host-key-checking", "accept-new"]);
    expect(r.code).toBe(0);
    const recorded = (await readFile(file, "utf8")).split("\n").filter(Boolean).sort();
    expect(recorded).toEqual(lab!.hosts.map((h) => `[127.0.0.1]:${h.port} ${h.hostKey}`).sort());
    const strict = await cli(["run", playbook(), "-i", inv]);
    expect(strict.code).toBe(0);
    expect(await readFile(file, "utf8")).toHaveLength(recorded.join("\n").length + 1);
  });

  test("off accepts any key (inventory variable), and records nothing", async () => {
    const file = join(dir, "wrong_hosts");
    const wrong = lab!.hosts
      .map((h, i) => `[127.0.0.1]:${h.port} ${lab!.hosts[(i + 1) % 3].hostKey}\n`)
      .join("");
    await writeFile(file, wrong);
    const inv = await inventory("off", file, { tickless_host_key_checking: "off" });
    const r = await cli(["run", playbook(), "-i", inv]);
    expect(r.code).toBe(0);
    for (const h of lab!.hosts) expect(r.stdout).toContain(`"msg": "host ${h.name}"`);
    expect(await readFile(file, "utf8")).toBe(wrong);
  });
});

/** Distinct secrets: become passwords per host, a connection password, and a no_log value. */
const SECRET = {
  becomeLab1: "Bp1-oyster-7731",
  becomeLab2: "Bp2-walrus-2290",
  becomeLab3: "Bp3-narwhal-5148",
  sshGhost: "Sp4-ghost-0815",
  token: "Tk5-no-log-9a7c",
};

const SECRETS_PLAYBOOK = `
- name: secrets
  hosts: lab:ghost
  gather_facts: false
  vars:
    base: "/tmp/{{ run_id }}"
  tasks:
    - name: become root (a no-op when logged in as root)
      command: id -un
      become: true
      register: as_root
      check_mode: false
    - name: assert become root ran
      assert: { that: "as_root.stdout == 'root'" }
    - name: become another user with a password (sudo is not installed here)
      command: id -un
      become: true
      become_user: nobody
      register: as_nobody
      check_mode: false
      ignore_errors: true
    - name: careless echo of a become password
      shell: echo "pw={{ ansible_become_pass }}"
      when: inventory_hostname == 'lab1'
    - name: careless debug of a become password
      debug: { msg: "pw={{ tickless_become_password }}" }
      when: inventory_hostname == 'lab2'
    - name: careless failure naming a become password
      fail: { msg: "cannot use {{ tickless_become_password }}" }
      when: inventory_hostname == 'lab3'
      ignore_errors: true
    - name: dir
      file: { path: "{{ base }}", state: directory }
    - name: no_log shell
      shell: echo "{{ api_token }}"; echo "{{ api_token }}" >&2
      register: token_out
      no_log: true
      check_mode: false
    - name: the registered value keeps the real data
      assert: { that: "token_out.stdout == api_token" }
    - name: no_log debug
      debug: { msg: "token {{ api_token }}" }
      no_log: true
    - name: no_log set_fact
      set_fact: { token_copy: "{{ api_token }}" }
      no_log: true
    - name: no_log copy with a diff
      copy: { dest: "{{ base }}/token", content: "token={{ api_token }}\\n", mode: "0600" }
      no_log: true
    - name: no_log lineinfile with a diff
      lineinfile: { path: "{{ base }}/token", line: "again={{ token_copy }}", create: true }
      no_log: true
    - name: no_log failing command
      command: sh -c 'echo {{ api_token }}; echo {{ api_token }} >&2; exit 3'
      no_log: true
      ignore_errors: true
    - name: no_log fail
      fail: { msg: "{{ api_token }}" }
      no_log: true
      ignore_errors: true
    - name: no_log assert that fails
      assert: { that: "api_token == 'x'", fail_msg: "bad {{ api_token }}" }
      no_log: true
      ignore_errors: true
`;

describe.skipIf(!lab)("secrets never appear: become passwords and no_log values", () => {
  const id = uniqueId("ssh-e2e-sec");
  let dir: string;
  let home: string;
  let releaseHome: () => Promise<void>;
  let inventory: string;

  beforeAll(async () => {
    ({ home, release: releaseHome } = await isolateHome());
    dir = await tempDir("tickless-ssh-secrets-");
    await writeTree(dir, { "site.yml": SECRETS_PLAYBOOK });
    inventory = await writeLabInventory(join(dir, "inventory.yml"), lab!, {
      vars: { api_token: SECRET.token, run_id: id },
      hosts: {
        lab1: { ansible_become_pass: SECRET.becomeLab1 },
        lab2: { tickless_become_password: SECRET.becomeLab2 },
        lab3: { tickless_become_password: SECRET.becomeLab3 },
      },
      // Nothing listens on port 1: its password must not show in the connection error either.
      extraHosts: {
        ghost: { ansible_host: "127.0.0.1", ansible_port: 1, tickless_password: SECRET.sshGhost },
      },
    });
  });
  afterAll(async () => {
    await removeOnHosts(lab!.hosts, [`/tmp/${id}`]);
    await removeDir(dir);
    await releaseHome();
  });

  const expectNoSecret = (text: string) => {
    for (const [name, value] of Object.entries(SECRET)) {
      expect(text.includes(value), `${name} leaked`).toBe(false);
    }
  };
  const base = () => ["run", join(dir, "site.yml"), "-i", inventory, "-vvv", "--diff"];

  test("the JSON event stream at -vvv", async () => {
    const r = await cli([...base(), "--json"]);
    expect(r.code).toBe(4);
    expectNoSecret(r.stdout + r.stderr);
    const events = r.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const result = (host: string, task: string) =>
      events.find(
        (e) => e.type === "host_result" && e.host === host && e.task === task && e.item === undefined,
      );
    // The tasks really ran: become as root worked, sudo was missing, careless outputs were masked.
    expect(result("lab1", "assert become root ran").status).toBe("ok");
    const nobody = result("lab2", "become another user with a password (sudo is not installed here)");
    expect(nobody.status).toBe("failed");
    expect(nobody.result.rc).toBe(127);
    expect(nobody.result.stderr).toMatch(/sudo: (command )?not found/);
    expect(result("lab1", "careless echo of a become password").result.stdout).toBe("pw=********");
    expect(result("lab2", "careless debug of a become password").result.msg).toBe("pw=********");
    expect(result("lab3", "careless failure naming a become password").result.msg).toBe(
      "cannot use ********",
    );
    expect(result("lab1", "the registered value keeps the real data").status).toBe("ok");
    expect(result("lab2", "no_log copy with a diff").status).toBe("changed");
    expect(result("lab3", "no_log failing command").status).toBe("failed");
    expect(result("lab1", "no_log shell").result.censored).toBe(
      "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
    );
    const ghost = result("ghost", "become root (a no-op when logged in as root)");
    expect(ghost.status).toBe("unreachable");
    expect(ghost.result.msg).toContain("connection refused by 127.0.0.1:1");
    const recap = events.find((e) => e.type === "recap");
    expect(recap.stats.lab1.failed).toBe(0);
    expect(recap.stats.lab3.ignored).toBe(5);
    // The no_log value was written on the host, as asked; it just never reached an output.
    expect(await readFile(`/proc/${lab!.hosts[0].pid}/root/tmp/${id}/token`, "utf8")).toBe(
      `token=${SECRET.token}\nagain=${SECRET.token}\n`,
    );
  });

  test("plain output at -vvv, the JUnit file, and a check run", async () => {
    const junit = join(home, "report.xml");
    for (const extra of [[], ["--check"]]) {
      const r = await cli([...base(), ...extra, "--junit", junit]);
      expect(r.code).toBe(4);
      expect(r.stdout).toContain("PLAY RECAP");
      expect(r.stdout).toContain(
        "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
      );
      expect(r.stdout).toContain("fatal: [ghost]: UNREACHABLE!");
      expectNoSecret(r.stdout + r.stderr);
      const xml = await readFile(junit, "utf8");
      expect(xml).toContain("<testsuite");
      expect(xml).toContain("careless");
      expectNoSecret(xml);
    }
  });

  test("the listr terminal output at -vvv", async () => {
    const r = await cli([...base(), "--reporter", "listr"], { isTTY: true });
    expect(r.code).toBe(4);
    expect(r.stdout + r.stderr).toContain("no_log");
    expectNoSecret(r.stdout + r.stderr);
  });

  test("error messages: a failed write to a path naming a secret, a template error, a bad inventory value", async () => {
    await writeTree(dir, {
      "broken.yml": `
- hosts: lab
  gather_facts: false
  tasks:
    - name: write under a missing dir named after the password
      copy: { dest: "/nonexistent/{{ ansible_become_pass }}/x", content: "x" }
      ignore_errors: true
    - name: undefined variable next to a secret
      debug: { msg: "{{ api_tokn }} {{ ansible_become_pass }}" }
`,
    });
    const broken = await cli(["run", join(dir, "broken.yml"), "-i", inventory, "-vvv", "-l", "lab1"]);
    expect(broken.code).toBe(2);
    // each failure's result, laid out over several lines at -vvv as Ansible's callback does
    const fatal = broken.stdout.split(/^(?=fatal: \[lab1\])/m).filter((b) => b.startsWith("fatal: [lab1]"));
    expect(fatal).toHaveLength(2);
    expect(fatal[0]).toContain("Destination directory /nonexistent/******** does not exist");
    expect(fatal[1]).toContain("api_tokn");
    expectNoSecret(broken.stdout + broken.stderr);
    const badPort = await writeLabInventory(join(dir, "bad-port.yml"), lab!, {
      hosts: { lab1: { ansible_port: "not-a-port", ansible_become_pass: SECRET.becomeLab1 } },
    });
    const r = await cli(["run", join(dir, "site.yml"), "-i", badPort, "-vvv"]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("not-a-port");
    expectNoSecret(r.stdout + r.stderr);
  });
});
