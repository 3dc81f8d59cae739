// One inventory both tools read: group `tuned` (the reference playbook's `hosts:`) of the first N lab hosts.
import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";

/** Writes the YAML inventory of `hosts` to `file`; returns `file`. */
export async function writeInventory(file, lab, hosts) {
  const entries = Object.fromEntries(
    hosts.map((h) => [
      h.name,
      {
        ansible_host: h.address,
        ansible_port: h.port,
        ansible_user: "root",
        ansible_ssh_private_key_file: lab.keyFile,
        tickless_known_hosts_file: lab.knownHostsFile,
      },
    ]),
  );
  await writeFile(file, stringify({ all: { children: { tuned: { hosts: entries } } } }));
  return file;
}
