/**
 * Jinja templates against the referee: real-world-shaped `.j2` files (a GRUB defaults file, a
 * systemd drop-in looping over CPUs, an nginx-like config with if/elif/else, JSON with
 * loop.last commas, set / raw / comments, whitespace control, filters and tests, macros with
 * call blocks, includes and imports (with and without context), a `#jinja2:` first line, the
 * template module's trim_blocks / lstrip_blocks, trailing newlines and CRLF) rendered by
 * ansible-playbook's template module and by tickless must give the same bytes; `{% %}` in
 * playbook strings must give the same messages and fact types.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import {
  filesOf,
  refereeInventory,
  refereeOutcomes,
  refereeRun,
  ticklessOutcomes,
  ticklessRun,
} from "./referee-runs.js";

const TEMPLATES: Record<string, string> = {
  "grub.j2": `# {{ ansible_managed }}
# from {{ template_path }} to {{ template_destpath | basename }}
GRUB_DEFAULT=0
GRUB_TIMEOUT={{ grub_timeout | default(5) }}
GRUB_DISTRIBUTOR=\`lsb_release -i -s 2> /dev/null || echo Debian\`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
{% set isolated = cpus | join(',') %}
GRUB_CMDLINE_LINUX="{{ base_cmdline }}{% if isolated %} isolcpus={{ isolated }} nohz_full={{ isolated }} rcu_nocbs={{ isolated }}{% endif %}"
{# the serial console only where it is asked for #}
{% if serial_console | default(false) %}
GRUB_TERMINAL="console serial"
{% elif graphics | default(true) %}
GRUB_GFXMODE=1024x768
{% endif %}
`,
  "dropin.conf.j2": `[Service]
{% for cpu in cpus %}
# CPU {{ cpu }}: {{ loop.index }} of {{ loop.length }} ({{ loop.index0 }}, {{ loop.revindex }}){% if loop.first %} first{% endif %}{% if loop.last %} last{% endif %}

{% endfor %}
CPUAffinity={% for cpu in cpus %}{{ cpu }}{% if not loop.last %} {% endif %}{% endfor %}

Environment="REDIS_CPUS={% for cpu in cpus %}{{ cpu }}{{ ',' if not loop.last }}{% endfor %}"
{% for key, value in limits.items() %}
Limit{{ key | upper }}={{ value }}
{% endfor %}
{% for name in limits %}{{ name }}{{ ' ' if not loop.last }}{% endfor %}

{% for cpu in cpus if cpu > 2 %}
high {{ cpu }} {{ loop.index }}/{{ loop.length }}
{% endfor %}
`,
  "site.conf.j2": `# {{ ansible_managed }}
{% for server in servers %}
server {
    listen {{ server.port }}{% if server.ssl | default(false) %} ssl{% endif %};
    server_name {{ server.names | join(' ') }};
{% if server.kind == 'proxy' %}
    location / {
        proxy_pass http://{{ server.upstream }};
    }
{% elif server.kind == 'static' %}
    root {{ server.root }};
{% else %}
    return 404;
{% endif %}
}
{% else %}
# no servers
{% endfor %}
{% for server in [] %}
never {{ server }}
{% else %}
# an empty list takes the else branch
{% endfor %}
`,
  "users.json.j2": `{
  "users": [
{% for u in users %}
    {"name": "{{ u.name }}", "uid": {{ u.uid }}, "admin": {{ u.admin | to_json }}}{{ "," if not loop.last else "" }}
{% endfor %}
  ],
  "count": {{ users | length }},
  "names": {{ users | map(attribute='name') | list | to_json }}
}
`,
  "set-raw.j2": `{# a comment first: trim_blocks takes its newline #}
{% set prefix = 'redis-' ~ port %}
{% set a, b = [1, 2] %}
name={{ prefix }} sum={{ a + b }} items={{ items }} flag={{ flag }} none={{ none }}
{% raw %}{{ not rendered }} {% if x %}kept{% endif %}{% endraw %}

{% set block %}
inner {{ port }}
{% endset %}
block=[{{ block }}]
{% for x in items %}{% set prefix = 'in-loop' %}{{ prefix }}:{{ x }} {% endfor %}

after the loop={{ prefix }}
{% if flag %}{% set chosen = 'yes' %}{% endif %}
chosen={{ chosen | default('no') }}
{% for c in 'abc' %}{{ c }}{{ loop.previtem | default('-') }}{{ loop.nextitem | default('-') }} {% endfor %}

{% for k in cfg %}{{ k }}={{ cfg[k] }};{% endfor %}

`,
  "whitespace.j2": `a {%- if flag %} b {% endif -%} c
list: [ {%- for x in items -%} "{{ x }}"{{ ", " if not loop.last }} {%- endfor -%} ]
  {% if flag %}
  indented
  {% endif %}
{{- ' joined' }}
{%+ if flag %}plus{% endif +%}
after plus
{# a comment -#}
   stripped by the comment
{{ port -}}
   glued
text {# inline #} text
    {% for x in items %}{{ x }}{% endfor %}
end`,
  "header.j2": `#jinja2: trim_blocks: False, lstrip_blocks: True
{% for x in items %}
    {% if x != 'b' %}
item {{ x }}
    {% endif %}
{% endfor %}
done
`,
  "lstrip.j2": `{% for x in items %}
    {% if x != 'b' %}
item {{ x }}
    {% endif %}
{% endfor %}
`,
  "hosts.j2": `127.0.0.1 localhost
{% for host in groups['all'] | sort %}
{{ hostvars[host]['ansible_host'] | default('10.0.0.' ~ loop.index) }} {{ host }}{% if host == inventory_hostname %} # this host{% endif %}

{% endfor %}
`,
  "sysctl.conf.j2": `{% for key, value in sysctl.items() %}
{% if value is mapping %}
{% for sub, v in value.items() %}
{{ key }}.{{ sub }} = {{ v }}
{% endfor %}
{% elif value is boolean %}
{{ key }} = {{ value | int }}
{% else %}
{{ key }} = {{ value }}
{% endif %}
{% endfor %}
`,
  "nested.j2": `{% for row in [[1, 2], [3, 4, 5]] %}
{% set outer = loop %}
{%- for cell in row -%}
{{ outer.index }}.{{ loop.index }}={{ cell }}{{ ';' if not loop.last else '\n' }}
{%- endfor %}
{% if loop.index is divisibleby(2) %}even row{% else %}odd row{% endif %} of {{ loop.length }}, {{ loop.revindex0 }} left
{% endfor %}
{% for x in items if x not in ['a'] %}{{ x }}{{ ',' if not loop.last }}{% endfor %}

{% set items = ['shadowed'] %}
{{ items | join(' ') }} {{ port if port > 10 else 'low' }}
{% for c in '' %}never{% else %}empty string{% endfor %}

{%- if flag -%}
    stripped both sides
{%- endif -%}

{% set notes %}{% for u in users %}{{ u.name | upper }} {% endfor %}{% endset %}
{{ notes | trim }}
`,
  "lstrip-edges.j2": `#jinja2: lstrip_blocks: True
  {# an indented comment #}
  {%+ if flag %}kept indent{% endif %}

  {% if flag %}
    body
  {% endif %}
text   {% if flag %}after text{% endif %}

  {%- raw -%}
  {{ raw }} {%- endraw %}

  {% for x in items %}{{ x }}{% endfor +%}
tail
`,
  "filters.j2": `{# filters and tests that roles use #}
{% for key, value in limits | dictsort %}
{{ key }}={{ value }}
{% endfor %}
{% for key, value in {'x': 3, 'y': 1, 'z': 2} | dictsort(false, 'value', true) %}{{ key }} {% endfor %}

{% for k, v in {'b': 1, 'A': 2, 'c': 0} | dictsort(true) %}{{ k }}{% endfor %}

{% for k, v in cfg | items %}{{ k }}:{{ v }} {% endfor %}

servers:
  {{ servers | map(attribute='names') | list | to_nice_yaml(indent=2) | indent(2) }}
{{ "a\nb\n\nc" | indent(4, true) }}
{{ "a\nb\n\nc" | indent(width='> ', first=false, blank=true) }}
[{{ 'mid' | center(11) }}] [{{ 'odd' | center(8) }}] [{{ 'wide' | center(2) }}]
{{ '%s:%d %05.2f|%-6s|%6s|%x %X %o %%' | format('port', port, 3.14159, 'l', 'r', 255, 255, 8) }}
{{ '%(name)s has %(n)03d' | format(name='redis', n=7) }} {{ '%+d % d %e' | format(5, 5, 12345.678) }}
{{ 'hello wORLD' | capitalize }} / {{ "it's a-test (of) [titles]" | title }} / {{ 'a b  c' | wordcount }}
{{ 'The quick brown fox jumps over the lazy dog' | truncate(20) }}|{{ 'short' | truncate(9) }}|{{ 'abcdefghijklmnop' | truncate(9, true, '~', 0) }}
{{ ansible_managed | comment }}
{{ 'two\nlines' | comment('c') }}
{{ 'x' | comment('cblock') }}
{{ 'x' | comment('xml') }}
{{ 'x' | comment(decoration='; ', prefix_count=2) }}
{{ 'cpu 1, cpu 22 and 333' | regex_findall('\\d+') }} {{ 'k=v a=b' | regex_findall('(\\w)=(\\w)') | map('join', '=') | list }} {{ 'A-b' | regex_findall('a', ignorecase=true) }}
{{ '1.2.*[x] a+b' | regex_escape }} {{ 'a.b*c' | regex_escape('posix_basic') }}
{% for row in range(7) | batch(3, '-') %}{{ row | join('') }} {% endfor %}
{% for col in range(7) | slice(3) %}{{ col | join('') }} {% endfor %}
{% for col in range(7) | slice(3, 0) %}{{ col | join('') }} {% endfor %}

{% for a, b in items | zip(cpus) %}{{ a }}{{ b }} {% endfor %}
{% for a, b in [1, 2] | product(['x', 'y']) %}{{ a }}{{ b }} {% endfor %}
{{ ['k', 'name'] | map('extract', cfg) | list }} {{ '/etc/redis.conf' | splitext | last }} {{ 'archive.tar.gz' | splitext | first }} {{ '.bashrc' | splitext | first }}
{{ ['/etc', 'redis', 'redis.conf'] | path_join }} {{ ['a', '/b', 'c'] | path_join }}
{{ 2.675 | round(2) }} {{ 3.14159 | round(3) }} {{ 2.5 | round | int }} {{ 3.5 | round | int }} {{ 7.25 | round(1, 'floor') }} {{ 7.21 | round(1, 'ceil') }}
{{ port | mandatory }}
{% for cpu in cpus %}{{ loop.cycle('odd', 'even') }}{{ cpu }} {% endfor %}

{% for n in range(1, 7) %}{% if n is divisibleby 3 %}{{ n }}:3 {% elif n is not divisibleby(2) %}{{ n }}:odd {% endif %}{% endfor %}

{{ '2.10.1' is version('2.9', '>') }} {{ '1.0' is version_compare('1.0.0', '<') }} {{ '7.0.15' is version('7.0.15', 'eq') }}
{{ [2, 3] is subset(cpus) }} {{ cpus is superset([2, 5]) }} {{ [0, 1] is any }} {{ [0, 1] is all }}
{{ flag is true }} {{ flag is false }} {{ port is sameas 6379 }} {{ flag is sameas true }} {{ 3 is sameas 3 }} {{ none is sameas none }} {{ '/etc' is abs }} {{ 'etc' is abs }}
{{ (users | selectattr('admin') | first).name }} {{ port is number and port is divisibleby 3 }}
`,
  "macro.j2": `{% macro row(name, value=0, sep=': ') -%}
{{ name }}{{ sep }}{{ value }}
{%- endmacro %}
{% macro wrap(tag) -%}
<{{ tag }}>{{ caller() }}</{{ tag }}>
{%- endmacro %}
{% macro each(xs) %}{% for x in xs %}{{ caller(x, loop.index) }}{% endfor %}{% endmacro %}
{% set local_x = 'L' %}
{{ row('a') }}
{{ row('b', 2) }}
{{ row('c', sep=' = ', value=3) }}
{% for i in items %}
{{ row(i, loop.index) }}
{% endfor %}
{% call wrap('b') %}inside {{ port }}{% endcall %}

{% call(x, n) each(cpus) %}[{{ n }}:{{ x }}]{% endcall %}

{% include 'part.j2' %}
{% for item in items %}
{% include 'part.j2' %}
{% endfor %}
{% include 'sub/deep.j2' %}
{% import 'macros.j2' as m %}
{{ m.kv('x') }} {{ m.kv('y', 2) }}
{% from 'macros.j2' import kv, port_line as pl %}
{{ kv('z', 3) }}
{% set suffix = '!' %}
{{ kv('w') }} {{ m.kv('q') }}
{{ row }}
after={{ from_part | default('not seen') }}
{% macro later_view(x=port + 1) %}{{ x }} {{ later | default('no later') }} {{ local_x }}{% endmacro %}
{% set later = 'set after the macro' %}
{{ later_view() }} {{ later_view(x='given') }}
{% import 'macros.j2' as ctx with context %}
{{ ctx.port_line() }} {{ ctx.kv('s') }}
{% include 'missing.j2' ignore missing %}
{% include ['missing.j2', 'sub/deep.j2'] %}
{% include 'part.j2' without context %}
`,
  "newlines.j2": "{% if flag %}\nkept\n{% endif %}\n\n\n",
  "crlf.j2": "a={{ port }}\r\n{% if flag %}\r\nb\r\n{% endif %}\r\n",
  "bare.j2": "{{ port }}",
};

/** Templates that macro.j2 includes and imports (not rendered by a task of their own). */
const INCLUDED: Record<string, string> = {
  "macros.j2": `{% macro kv(k, v='none') -%}
{{ k }}={{ v }}{{ suffix | default('') }}
{%- endmacro %}
{% macro port_line() %}port {{ port }}{% endmacro %}
ignored text
`,
  "part.j2": `part sees port={{ port | default("no vars") }} local={{ local_x | default("unset") }} item={{ item | default('no item') }}
{% set from_part = 1 %}
`,
  "sub/deep.j2": "deep {{ port }}\n",
};

const PLAYBOOK = `
- name: Jinja templates
  hosts: h1
  gather_facts: false
  vars:
    cpus: [2, 3, 4]
    base_cmdline: "console=ttyS0"
    graphics: false
    port: 6379
    flag: true
    items: [b, a, c]
    cfg: { k: 1, name: redis }
    limits: { nofile: 65536, memlock: infinity }
    sysctl: { vm.swappiness: 1, kernel.numa_balancing: false, net: { core.somaxconn: 4096, ipv4.tcp_low_latency: 1 } }
    users: [{ name: ann, uid: 1001, admin: true }, { name: bob, uid: 1002, admin: false }]
    servers:
      - { port: 443, ssl: true, names: [a.example, b.example], kind: proxy, upstream: "127.0.0.1:8080" }
      - { port: 80, names: [static.example], kind: static, root: /srv/www }
      - { port: 8080, names: [other.example], kind: other }
  tasks:
${Object.keys(TEMPLATES)
  .map(
    (name) =>
      `    - name: render ${name}\n      template: { src: ${name}, dest: "{{ root }}/${name.replace(/\.j2$/, "")}" }`,
  )
  .join("\n")}
    - name: render lstrip.j2 with the module's options
      template: { src: lstrip.j2, dest: "{{ root }}/lstrip-options", trim_blocks: false, lstrip_blocks: true }
    - name: a statement in a message
      debug: { msg: "{% if flag %}on{% else %}off{% endif %} {% for x in items %}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}" }
    - name: a comment and set in a message
      debug: { msg: "{# not shown #}{% set n = items | length %}n={{ n }}" }
    - name: facts from statements
      set_fact:
        j_list: "[{% for x in items %}'{{ x }}'{{ ', ' if not loop.last }}{% endfor %}]"
        j_bool: "{% if flag %}True{% else %}False{% endif %}"
        j_text: "{% for c in cpus %}{{ c }}{% endfor %}"
    - name: the facts, with their types
      debug: { msg: "{{ [j_list, j_bool, j_text] | map('type_debug') | list }} {{ j_list | length }} {{ j_text }}" }
    - name: a when over a var holding a statement
      debug: { msg: "ran" }
      when: j_bool
`;

let dir: string;
let referee: Awaited<ReturnType<typeof refereeRun>>;

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-jinja-");
  const templates = Object.fromEntries(
    Object.entries({ ...TEMPLATES, ...INCLUDED }).map(([n, t]) => [`templates/${n}`, t]),
  );
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "ansible/.keep": "",
    "tickless/.keep": "",
    ...templates,
  });
  referee = await refereeRun(dir);
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("Jinja templates against ansible-playbook", () => {
  test("every rendered file byte for byte, each task's status and message, the recap", async () => {
    const ours = await ticklessRun(dir);
    const { lines, msgTasks } = refereeOutcomes(referee.report);
    expect(referee.rc).toBe(0);
    expect(lines).toHaveLength(Object.keys(TEMPLATES).length + 6);
    expect(await filesOf(ours.root)).toEqual(await filesOf(path.join(dir, "ansible")));
    expect(ticklessOutcomes(ours.results, msgTasks).join("\n")).toBe(lines.join("\n"));
    expect(ours.summary.exitCode).toBe(referee.rc);
    expect(ours.stats).toEqual(referee.report.stats);
  }, 60_000);

  test("a second run changes nothing", async () => {
    const again = await ticklessRun(dir);
    expect(again.results.filter((r) => r.status === "changed").map((r) => r.task)).toEqual([]);
  }, 60_000);
});
