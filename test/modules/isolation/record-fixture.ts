/** What isolation.yml's defaults record (CPU 4 isolated on an 8-CPU host), shared by the record, status and lab tests. */
export const ISOLATED_4 = {
  isolated_cpus: "4",
  housekeeping_cpus: "0-3,5-7",
  kernel_params: { isolcpus: "4", nohz_full: "4", rcu_nocbs: "4" },
};

/** The record's `grub` part for the snippet method. */
export function snippetGrub(path: string, sha256: string | null) {
  return { method: "snippet", files: [{ path, sha256 }] };
}
