#!/usr/bin/env bash
# Builds the pristine Debian bookworm disk image of the VM lab into OUT (a new directory).
# Usage: build-image.sh OUT MIRROR
# Writes OUT/disk.raw (MBR, one ext4 partition, GRUB in the MBR), OUT/id_ed25519 (root's login
# key), OUT/ssh_host_ed25519_key.pub (the guest's host key), OUT/vmlinuz (the image's kernel,
# for the KVM probe) and OUT/timings.json. No loop
# devices, no mounts: the file system is written by `mkfs.ext4 -d`, and GRUB is installed by
# the guest itself during a first boot with -kernel/-initrd (see README.md).
set -euo pipefail
out="$1"
mirror="$2"
packages="systemd,systemd-sysv,dbus,openssh-server,linux-image-amd64,grub-pc,initramfs-tools,redis-server,irqbalance,sudo,python3,ifupdown,iproute2,isc-dhcp-client,e2fsprogs,procps,util-linux,ca-certificates"
size_mib=4096
offset_mib=1

now() { date +%s; }
phase_start=$(now)
declare -A took
mark() { took[$1]=$(($(now) - phase_start)); phase_start=$(now); echo "== $1: ${took[$1]} s"; }

mkdir -p "$out" "$out/../debs"
# The tree is built in RAM when /dev/shm has room and allows devices and executables: dpkg's
# thousands of fsyncs then cost nothing.
shm_free_mib=$(df --output=avail -BM /dev/shm 2>/dev/null | tail -1 | tr -dc 0-9)
if [ "${shm_free_mib:-0}" -gt 3072 ] && ! grep -qE '^\S+ /dev/shm \S+ \S*(noexec|nodev)' /proc/mounts; then rootfs=$(mktemp -d /dev/shm/tickless-vm-rootfs.XXXXXX); else rootfs="$out/rootfs"; fi
trap 'rm -rf "$rootfs"' EXIT

echo "== debootstrap bookworm from $mirror"
debootstrap --variant=minbase --include="$packages" --cache-dir="$out/../debs" \
  bookworm "$rootfs" "$mirror"
mark debootstrap

ssh-keygen -q -t ed25519 -N '' -C tickless-vm -f "$out/id_ed25519"
install -d -m 700 "$rootfs/root/.ssh"
install -m 600 "$out/id_ed25519.pub" "$rootfs/root/.ssh/authorized_keys"
cp "$rootfs/etc/ssh/ssh_host_ed25519_key.pub" "$out/ssh_host_ed25519_key.pub"

echo tickless-vm >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\ttickless-vm\n' >"$rootfs/etc/hosts"
printf '/dev/vda1\t/\text4\terrors=remount-ro\t0\t1\n' >"$rootfs/etc/fstab"
# The virtio NIC on the default machine type sits in PCI slot 3, hence ens3; DHCP from QEMU's
# user-mode network.
cat >"$rootfs/etc/network/interfaces" <<'EOF'
auto lo
iface lo inet loopback

allow-hotplug ens3
iface ens3 inet dhcp
EOF
cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
EOF

# Serial console for the kernel and GRUB, no GRUB menu delay. GRUB_CMDLINE_LINUX stays as Debian
# ships it (empty): it is what playbooks change. Under TCG on a busy host vCPUs fall behind and RCU
# reports stalls after 21 s; printing 8 CPUs' traces through an emulated UART is slow enough to
# make the next stall (seen in CI: a first boot that never finished). The longest timeout (300 s)
# keeps real hangs reported and the false alarms quiet.
sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=0/' \
  -e 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0,115200n8 rcupdate.rcu_cpu_stall_timeout=300"/' \
  "$rootfs/etc/default/grub"
printf 'GRUB_TERMINAL=serial\nGRUB_SERIAL_COMMAND="serial --speed=115200"\n' >>"$rootfs/etc/default/grub"

# Modules for hardware the VM does not have or need (KVM inside an emulated CPU, PC speaker,
# parallel port, floppy, AMD frequency scaling): each costs seconds of boot under emulation.
printf 'blacklist %s\n' kvm kvm_amd kvm_intel pcspkr parport_pc ppdev floppy powernow_k8 \
  >"$rootfs/etc/modprobe.d/tickless-vm.conf"

# Nothing that starts on its own and loads the emulated CPU during tests.
for unit in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer \
  e2scrub_reap.service systemd-networkd-wait-online.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done

# First boot: the guest installs GRUB on its own disk, generates grub.cfg, and powers off.
cat >"$rootfs/etc/systemd/system/tickless-firstboot.service" <<'EOF'
[Unit]
Description=Install GRUB on the disk, then power off
ConditionPathExists=!/var/lib/tickless-firstboot.done
After=local-fs.target

[Service]
Type=oneshot
StandardOutput=journal+console
ExecStart=/bin/sh -c 'echo "grub-pc grub-pc/install_devices multiselect /dev/vda" | debconf-set-selections'
ExecStart=/usr/sbin/grub-install /dev/vda
ExecStart=/usr/sbin/update-grub
ExecStart=/bin/systemctl disable tickless-firstboot.service
ExecStart=/bin/rm /etc/systemd/system/tickless-firstboot.service
ExecStart=/bin/touch /var/lib/tickless-firstboot.done
ExecStart=/bin/sync
ExecStart=/bin/systemctl --no-block poweroff

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/tickless-firstboot.service \
  "$rootfs/etc/systemd/system/multi-user.target.wants/tickless-firstboot.service"
cp "$rootfs"/boot/vmlinuz-* "$out/vmlinuz"
cp "$rootfs"/boot/initrd.img-* "$out/initrd.img"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*_Packages

echo "== disk image"
truncate -s "${size_mib}M" "$out/disk.raw"
echo "start=$((offset_mib * 2048)), type=83, bootable" | sfdisk -q "$out/disk.raw"
mkfs.ext4 -q -F -L root -E offset=$((offset_mib * 1048576)) -d "$rootfs" "$out/disk.raw" \
  "$(((size_mib - offset_mib) * 256))"
rm -rf "$rootfs"
mark image

echo "== first boot (grub-install inside the guest)"
timeout "${TICKLESS_VM_FIRSTBOOT_TIMEOUT:-1200}" qemu-system-x86_64 -accel "${TICKLESS_VM_ACCEL:-tcg}" \
  -smp 8 -m 1024 -display none -vga none -parallel none -no-reboot \
  -drive file="$out/disk.raw",format=raw,if=virtio \
  -kernel "$out/vmlinuz" -initrd "$out/initrd.img" \
  -append "root=/dev/vda1 rw console=ttyS0,115200n8" \
  -nic none -serial file:"$out/firstboot.log" -monitor none
rm -f "$out/initrd.img"
grep -q 'Installation finished. No error reported' "$out/firstboot.log" ||
  { echo "grub-install did not finish: see $out/firstboot.log" >&2; exit 1; }
mark firstboot

printf '{"debootstrap":%d,"image":%d,"firstboot":%d}\n' \
  "${took[debootstrap]}" "${took[image]}" "${took[firstboot]}" >"$out/timings.json"
