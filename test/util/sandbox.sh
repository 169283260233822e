#!/bin/bash
# Runs one container of a synthesized pod the way a kubelet and runc would, for the script tests.
# test/util/container.ts starts it as
#   unshare --pid --fork --mount --uts --propagation private --kill-child -- bash sandbox.sh ROOT \
#     [--mount HOST_DIR CONTAINER_PATH ro|rw]... [--rootfs ro|rw] [--hostname NAME] -- COMMAND...
# so this shell is PID 1 of a new PID namespace, in a private mount namespace, and inherits the
# loopback-only network namespace `npm test` runs jest in. It builds the container's root filesystem
# in ROOT (an empty directory): busybox applets in /bin (the image), the step's other tools in
# /usr/local/bin, the host's /usr, /lib* and /etc read-only (the shared libraries those tools load),
# a fresh /proc of the new PID namespace, and each volume bind-mounted at its mount path. Then it
# execs COMMAND (chroot, env -i, setpriv, the container's command) in place: the container's
# process keeps PID 1.
set -euo pipefail
root=$1; shift
rootfs=ro
mounts=()
while [ "$1" != -- ]; do
  case "$1" in
    --mount) mounts+=("$2" "$3" "$4"); shift 4 ;;
    --rootfs) rootfs=$2; shift 2 ;;
    --hostname) hostname "$2"; shift 2 ;;
    *) echo "sandbox.sh: unknown option $1" >&2; exit 125 ;;
  esac
done
shift

mount -t tmpfs -o mode=0755 sandbox-root "$root"
mkdir "$root/usr"
mount --rbind /usr "$root/usr"
mount -o remount,bind,ro "$root/usr"
# /etc: the host's entries as symlinks into a read-only bind of it, so a volume can still be
# mounted under /etc (e.g. /etc/app) as a runtime creates mount points in the image's /etc.
mkdir "$root/.host-etc" "$root/etc"
mount --rbind /etc "$root/.host-etc"
mount -o remount,bind,ro "$root/.host-etc"
for entry in /etc/* /etc/.[!.]*; do
  [ -e "$entry" ] || [ -L "$entry" ] || continue
  ln -s "/.host-etc/${entry#/etc/}" "$root$entry"
done
# The kubelet manages a pod's /etc/hosts: localhost on both loopback addresses, and the pod's name.
rm -f "$root/etc/hosts"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\ttest-pod\n' >"$root/etc/hosts"
# /lib, /lib64, /sbin: symlinks on a merged-/usr host, directories otherwise.
for dir in lib lib64 lib32 libx32 sbin; do
  if [ -L "/$dir" ]; then ln -s "$(readlink "/$dir")" "$root/$dir"
  elif [ -d "/$dir" ]; then mkdir "$root/$dir" && mount --rbind "/$dir" "$root/$dir" && mount -o remount,bind,ro "$root/$dir"
  fi
done
mkdir "$root/bin" "$root/proc" "$root/dev" "$root/tmp" "$root/var" "$root/root"
mount --bind "$SANDBOX_BIN" "$root/bin"
mount -o remount,bind,ro "$root/bin"
mount --bind "$SANDBOX_TOOLS" "$root/usr/local/bin"
mount -o remount,bind,ro "$root/usr/local/bin"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"

i=0
while [ "$i" -lt "${#mounts[@]}" ]; do
  host=${mounts[$i]} target=$root${mounts[$((i + 1))]} mode=${mounts[$((i + 2))]}
  # A mount over a host /etc entry replaces it, as a volume hides what the image has there.
  first=${target#"$root"/etc/}; first=$root/etc/${first%%/*}
  [ "${target#"$root"/etc/}" != "$target" ] && [ -L "$first" ] && rm "$first"
  mkdir -p "$target"
  mount --bind "$host" "$target"
  [ "$mode" = ro ] && mount -o remount,bind,ro "$target"
  i=$((i + 3))
done
[ "$rootfs" = ro ] && mount -o remount,ro "$root"

exec chroot "$root" "$@"
