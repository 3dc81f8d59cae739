/**
 * A small Ansible repository: a playbook with a role, an included task file, a .j2 template,
 * group_vars/, role defaults, an inventory and an ansible.cfg. `unsupported: true` writes, on the same lines,
 * the constructs tickless does not run; `LINES` says where each one stands.
 */
import { lines } from "../support/fs.js";

/** file → line:column of each construct written when `unsupported` is set. */
export const LINES = {
  varsPrompt: "site.yml:3:3",
  zypperModule: "site.yml:9:7",
  unknownFilter: "site.yml:13:14",
  lookupEnv: "site.yml:16:14",
  pacmanModule: "tasks/extra.yml:2:3",
  templateFilter: "roles/web/templates/app.conf.j2:2:10",
  templateFilterAgain: "roles/web/templates/app.conf.j2:3:10",
  groupVarsFilter: "group_vars/all.yml:2:8",
  roleDefaultsFilter: "roles/web/defaults/main.yml:2:8",
  configKey: "ansible.cfg:3:1",
} as const;

export function repository(unsupported: boolean): Record<string, string> {
  const pick = (bad: string, good: string) => (unsupported ? bad : good);
  return {
    "site.yml": lines(
      "- hosts: localhost",
      "  gather_facts: false",
      pick("  vars_prompt:", "  vars:"),
      pick("    - name: pw", "    pw: x"),
      "  roles:",
      "    - web",
      "  tasks:",
      "    - name: install redis",
      pick("      zypper:", "      debug:"),
      pick("        name: redis", "        msg: redis"),
      "    - name: greet",
      "      debug:",
      pick('        msg: "{{ greeting | to_json_pretty }}"', '        msg: "{{ greeting | to_nice_json }}"'),
      "    - name: home",
      "      debug:",
      pick(
        `        msg: "{{ lookup('password', '/tmp/pw') }}"`,
        `        msg: "{{ home | default('/root') }}"`,
      ),
      "    - include_tasks: tasks/extra.yml",
    ),
    "tasks/extra.yml": lines(
      "- name: extra",
      pick("  pacman:", "  debug:"),
      pick("    name: jq", "    msg: jq"),
    ),
    "roles/web/tasks/main.yml": lines(
      "- name: configure",
      "  template:",
      "    src: app.conf.j2",
      '    dest: "{{ out }}/app.conf"',
    ),
    "roles/web/defaults/main.yml": lines(
      "port: 6379",
      pick(`label: "{{ 'web' | frob }}"`, `label: "{{ 'web' | upper }}"`),
    ),
    "roles/web/templates/app.conf.j2": lines(
      "port={{ port }}",
      pick("label={{ label | quux }}", "label={{ label | lower }}"),
      pick("greet={{ greeting | upper | zap }}", "greet={{ greeting | upper | trim }}"),
    ),
    "group_vars/all.yml": lines(
      "greeting: hello",
      pick('shout: "{{ greeting | nope }}"', 'shout: "{{ greeting | upper }}"'),
    ),
    "hosts.yml": lines("all:", "  hosts:", "    localhost:", "      ansible_connection: local"),
    "ansible.cfg": lines("[defaults]", "roles_path = roles", pick("stdout_callback = yaml", "forks = 5")),
  };
}
