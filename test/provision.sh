#!/usr/bin/env bash
# Provisions what the real-execution tests need, before jest starts (the first step of `npm test`).
#
# The tests run every generated init script the way a kubelet would: as PID 1 of its own PID
# namespace, as the step's uid/gid with only its capabilities, in a read-only root with the volumes
# bind-mounted at their paths, with loopback as the only network, under two busybox builds
# (Debian's, and `make defconfig` built from Debian's busybox source, as the official image is).
# That needs root, some Debian packages, and the defconfig build (built once, cached outside the repo).
#
# As root with apt-get, whatever is missing is installed. Otherwise this stops before jest with one
# message naming what is missing and the one command that installs it.
set -euo pipefail

cache=${CDK8S_INIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-init}

# command-or-path -> Debian package; each is used by the tests for real.
need=(
  'busybox:busybox'                              # Debian's busybox: the first of the two builds
  'curl:curl'                                    # ConfigFetchInit http, WaitForJob, https waits
  'git:git'                                      # ConfigFetchInit git, against a real bare repository
  'openssl:openssl'                              # CertificateCheckInit, and the TLS test servers' certificates
  'java:default-jre-headless'                    # MigrationInit: the real Liquibase
  'psql:postgresql-client'                       # ... against a real PostgreSQL server
  '/usr/lib/postgresql/*/bin/pg_ctl:postgresql'
  'unshare:util-linux'                           # PID, mount and network namespaces
  'setpriv:util-linux'                           # the step's uid, gid and capabilities
  'gcc:gcc' 'make:make' '/usr/include/stdio.h:libc6-dev'   # the defconfig busybox build
  'dpkg-source:dpkg-dev' 'bzip2:bzip2' 'xz:xz-utils'       # apt-get source busybox
)

if [ "$(id -u)" -ne 0 ]; then
  echo "npm test: the script tests run each init script as its container would (own PID namespace, uid 65532," >&2
  echo "no capabilities, read-only root, loopback only), which needs root. Run it as root, e.g. in a CI container." >&2
  exit 1
fi
apt_label='npm test'
# shellcheck source=test/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
install_missing "${need[@]}"

# busybox built with `make defconfig` from Debian's source package: the official busybox image's
# configuration (nc 1.10 compatible netcat, built-in TLS in wget), which Debian's build differs from.
defconfig=$cache/busybox-defconfig
if [ ! -x "$defconfig/busybox" ]; then
  echo "npm test: building busybox with make defconfig from Debian's source package (once; cached in $defconfig)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  apt_source busybox "$work"
  src=$(find "$work" -maxdepth 1 -type d -name 'busybox-*' | head -1)
  if ! (cd "$src" && make defconfig && make -j"$(nproc)") >"$work/build.log" 2>&1; then
    echo "npm test: the defconfig busybox build failed: $(tail -n 3 "$work/build.log")" >&2
    exit 1
  fi
  mkdir -p "$defconfig"
  cp "$src/.config" "$defconfig/config"
  cp "$src/busybox" "$defconfig/busybox.new" && mv "$defconfig/busybox.new" "$defconfig/busybox"
fi
