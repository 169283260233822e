#!/usr/bin/env bash
# Builds the e2e tier's stand-in container images from the Debian packages installed on this
# machine, under the exact names the synthesized example manifests use, as OCI image archives.
#
#   test/e2e/images/build.sh <outdir>
#
# Writes into <outdir>:
#   <image>.tar   an OCI image layout (oci-layout, index.json, blobs/sha256/...) as a tar; index.json
#                 names each manifest with io.containerd.image.name (the full normalized reference)
#                 and org.opencontainers.image.ref.name (its tag), so
#                 `ctr -n k8s.io images import <image>.tar` imports it under exactly those names;
#   images.txt    "<full reference> <archive file name>" per line (an archive may carry several);
#   .<image>.key  the hash of what went into <image>.tar: an image whose recipe, inputs (this
#                 script, its files, the Debian files' sizes and mtimes) are unchanged is not rebuilt.
#
# Each image is one uncompressed layer: a root filesystem of busybox (applet symlinks in /bin) plus
# Debian binaries with the shared libraries ldd lists (and the loader), tarred sorted, with numeric
# owners and mtime 0, so a rebuild of the same inputs gives the same digests.
#
# Environment:
#   BUSYBOX_BINARY  the busybox of docker.io/library/busybox:1.36.1. Default: the `make defconfig`
#                   build test/provision.sh caches ($CACHE/busybox-defconfig/busybox,
#                   the official image's configuration) if it exists, else Debian's busybox-static.
#                   A dynamically linked build is copied with its glibc libraries, as in the
#                   official (glibc) image. The other images carry Debian's busybox-static.
#   E2E_EXTRA_CA    a PEM file of CA certificates appended to the CA bundle of every image that has
#                   one (all but busybox and pause), as images trust a private CA.
#   PAUSE_BINARY    the pod sandbox's pause binary. Default: $CACHE/kubernetes-1.20.2/pause
#                   if it exists (built by test/e2e/build-kubernetes.sh), else pause.c here, built
#                   with gcc -Os -static.
#   CDK8S_INIT_CACHE  $CACHE above; default ${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-init.
# Needs root (the root filesystems hold files of other owners); installs missing Debian packages.
set -euo pipefail
umask 022

say() { echo "images: $*"; }
die() { echo "images: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 <outdir>"
[ "$(id -u)" -eq 0 ] || die "run as root: the images' root filesystems hold files owned by other uids"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
started=$SECONDS

PG=/usr/lib/postgresql/15
cache=${CDK8S_INIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-init}   # as test/provision.sh and run.sh
DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# --- Debian packages --------------------------------------------------------------------------------
need=(
  '/usr/bin/curl:curl' '/usr/bin/git:git' '/usr/bin/openssl:openssl'
  "$PG/bin/psql:postgresql-client-15" "$PG/bin/postgres:postgresql-15" '/usr/bin/jq:jq'
  '/usr/bin/gcc:gcc' '/usr/include/stdio.h:libc6-dev' '/etc/ssl/certs/ca-certificates.crt:ca-certificates'
  '/usr/share/zoneinfo/Etc/UTC:tzdata'
)
apt_label=images
# shellcheck source=test/apt.sh
. "$here/../../apt.sh"
install_missing "${need[@]}"

# is_static BINARY: true if ldd finds no shared libraries.
is_static() { ! ldd "$1" >/dev/null 2>&1; }

# Debian's busybox-static, unpacked into the cache rather than installed: installing it would
# replace the machine's `busybox` package, which `npm test` runs the scripts under.
DEBIAN_BUSYBOX=$cache/busybox-static/bin/busybox
if [ ! -x "$DEBIAN_BUSYBOX" ]; then
  work=$(mktemp -d)
  (cd "$work" && apt-get download busybox-static >"$work/log" 2>&1) || die "apt-get download busybox-static failed: $(tail -n 1 "$work/log")"
  rm -rf "$cache/busybox-static" && mkdir -p "$cache/busybox-static"
  dpkg-deb -x "$work"/busybox-static_*.deb "$cache/busybox-static"
  rm -rf "$work"
fi
defconfig_busybox=$cache/busybox-defconfig/busybox
if [ -z "${BUSYBOX_BINARY:-}" ]; then
  BUSYBOX_BINARY=$DEBIAN_BUSYBOX
  [ -x "$defconfig_busybox" ] && BUSYBOX_BINARY=$defconfig_busybox
fi
[ -x "$BUSYBOX_BINARY" ] || die "BUSYBOX_BINARY $BUSYBOX_BINARY is not an executable"
is_static "$DEBIAN_BUSYBOX" || die "$DEBIAN_BUSYBOX is not statically linked (want Debian's busybox-static)"
PAUSE_BINARY=${PAUSE_BINARY:-$cache/kubernetes-1.20.2/pause}
if [ -n "${E2E_EXTRA_CA:-}" ]; then
  [ -f "$E2E_EXTRA_CA" ] && grep -q 'BEGIN CERTIFICATE' "$E2E_EXTRA_CA" || die "E2E_EXTRA_CA $E2E_EXTRA_CA is not a PEM certificate file"
  E2E_EXTRA_CA=$(realpath "$E2E_EXTRA_CA")
fi

# --- Root filesystem directives ------------------------------------------------------------------------
# A recipe runs twice: in plan mode each directive prints what it would put in the image (with the
# inputs' fingerprints), which gives the recipe's key; in build mode it fills $ROOT.
MODE=plan ROOT=
planning() { [ "$MODE" = plan ]; }
host_fp() { stat -L -c '%n %s %Y' "$1"; }
content_fp() { sha256sum <"$1" | cut -c 1-16; }

# rf_dir PATH MODE [UID:GID]
rf_dir() {
  if planning; then echo "dir $*"; return; fi
  mkdir -p "$ROOT$1"
  chmod "$2" "$ROOT$1"
  [ -z "${3:-}" ] || chown "$3" "$ROOT$1"
}

# rf_link TARGET PATH
rf_link() {
  if planning; then echo "link $*"; return; fi
  mkdir -p "$(dirname "$ROOT$2")"
  ln -sfn "$1" "$ROOT$2"
}

# rf_text PATH MODE TEXT
rf_text() {
  if planning; then echo "text $1 $2 $(printf '%s' "$3" | sha256sum | cut -c 1-16)"; return; fi
  mkdir -p "$(dirname "$ROOT$1")"
  printf '%s' "$3" >"$ROOT$1"
  chmod "$2" "$ROOT$1"
}

# rf_file SOURCE PATH MODE: a file (its content), relative SOURCEs are in this directory.
rf_file() {
  local src=$1
  [[ $src == /* ]] || src=$here/$src
  [ -f "$src" ] || die "no such file: $src"
  if planning; then echo "file $2 $3 $(content_fp "$src")"; return; fi
  mkdir -p "$(dirname "$ROOT$2")"
  cp -L "$src" "$ROOT$2"
  chmod "$3" "$ROOT$2"
}

# rf_tree SOURCE PATH: a directory's files (modes kept, owned by root).
rf_tree() {
  local src=$1
  [[ $src == /* ]] || src=$here/$src
  [ -d "$src" ] || die "no such directory: $src"
  if planning; then
    echo "tree $2 $(cd "$src" && find . -printf '%p %y %m %s %T@\n' | LC_ALL=C sort | sha256sum | cut -c 1-16)"
    return
  fi
  mkdir -p "$ROOT$2"
  cp -a "$src/." "$ROOT$2/"
  chown -R 0:0 "$ROOT$2"
}

# copy_host PATH: the host's PATH at the same place, each symlink on the way (a directory's, like
# /lib -> usr/lib, or the file's own) recreated and followed.
copy_host() {
  local cur= target rest i n
  local -a parts
  IFS=/ read -r -a parts <<<"${1#/}"
  n=${#parts[@]}
  for ((i = 0; i < n; i++)); do
    cur+=/${parts[i]}
    if [ -L "$cur" ]; then
      target=$(readlink "$cur")
      if [ ! -e "$ROOT$cur" ] && [ ! -L "$ROOT$cur" ]; then
        mkdir -p "$(dirname "$ROOT$cur")"
        ln -s "$target" "$ROOT$cur"
      fi
      [[ $target == /* ]] || target=$(dirname "$cur")/$target
      rest=$(IFS=/; echo "${parts[*]:i+1}")
      copy_host "$(realpath -m -s "$target${rest:+/$rest}")"
      return
    fi
    if ((i < n - 1)); then
      [ -d "$ROOT$cur" ] || mkdir -p "$ROOT$cur"
    elif [ -d "$cur" ]; then
      mkdir -p "$ROOT$cur"
    elif [ ! -e "$ROOT$cur" ]; then
      cp -p "$cur" "$ROOT$cur"
    fi
  done
}

# rf_host PATH...: host files (or symlinks, kept) at their own paths.
rf_host() {
  local p
  for p in "$@"; do
    [ -e "$p" ] || die "no such file: $p"
    if planning; then echo "host $(host_fp "$p") $(readlink "$p" || true)"; else copy_host "$p"; fi
  done
}

# The shared libraries (and loader) ldd lists for a binary; none for a static one.
ldd_libs() {
  local listing
  listing=$(ldd "$1" 2>/dev/null) || return 0   # "not a dynamic executable"
  if grep -q 'not found' <<<"$listing"; then die "$1: missing libraries: $(grep 'not found' <<<"$listing" | tr -s ' \t' ' ')"; fi
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$listing"
}

# rf_bin BINARY [PATH]: a binary or shared object (at PATH, default its own path; mode kept) and
# the shared libraries it needs.
rf_bin() {
  local src=$1 dst=${2:-$1} lib libs
  [ -f "$src" ] || die "no such file: $src"
  libs=$(ldd_libs "$src")
  if planning; then
    echo "bin $dst $(host_fp "$src")"
    for lib in $libs; do echo "lib $(host_fp "$lib")"; done
    return
  fi
  mkdir -p "$(dirname "$ROOT$dst")"
  [ -e "$ROOT$dst" ] || cp -L "$src" "$ROOT$dst"
  for lib in $libs; do copy_host "$lib"; done
}

# rf_busybox BINARY: busybox as /bin/busybox, and a /bin symlink per applet (not over other files).
rf_busybox() {
  local applet
  rf_bin "$1" /bin/busybox
  planning && return
  for applet in $("$1" --list); do
    [ "$applet" = busybox ] || [ -e "$ROOT/bin/$applet" ] || [ -L "$ROOT/bin/$applet" ] || ln -s busybox "$ROOT/bin/$applet"
  done
}

# rf_base [name:uid:gid:home[:group]]...: the usual directories, /tmp (1777), /etc/passwd and
# /etc/group with root, nobody and the given users, /etc/nsswitch.conf.
rf_base() {
  local d spec name uid gid home group passwd group_file
  rf_dir / 755
  for d in /bin /dev /etc /home /proc /sys /usr /usr/bin /usr/local /usr/local/bin /var; do rf_dir "$d" 755; done
  rf_dir /root 700
  rf_dir /tmp 1777
  rf_dir /var/tmp 1777
  passwd="root:x:0:0:root:/root:/bin/sh"$'\n'
  group_file="root:x:0:"$'\n'
  for spec in "$@"; do
    IFS=: read -r name uid gid home group <<<"$spec"
    passwd+="$name:x:$uid:$gid:$name:$home:/bin/sh"$'\n'
    group_file+="${group:-$name}:x:$gid:$name"$'\n'
  done
  passwd+="nobody:x:65534:65534:nobody:/nonexistent:/bin/false"$'\n'
  group_file+="nogroup:x:65534:"$'\n'
  rf_text /etc/passwd 644 "$passwd"
  rf_text /etc/group 644 "$group_file"
  rf_text /etc/nsswitch.conf 644 $'passwd: files\ngroup: files\nhosts: files dns\n'
}

# The CA bundle, where the real image has one (Debian's path; curl, git, openssl and libpq read it),
# with E2E_EXTRA_CA's certificates appended.
rf_ca() {
  local bundle=/etc/ssl/certs/ca-certificates.crt
  if [ -z "${E2E_EXTRA_CA:-}" ]; then rf_host "$bundle"; return; fi
  if planning; then echo "ca $(host_fp "$bundle") $(content_fp "$E2E_EXTRA_CA")"; return; fi
  copy_host "$(dirname "$bundle")"
  cat "$bundle" "$E2E_EXTRA_CA" >"$ROOT$bundle"
  chmod 644 "$ROOT$bundle"
}
rf_openssl() {
  rf_bin /usr/bin/openssl
  rf_host /usr/lib/ssl/openssl.cnf /usr/lib/ssl/certs /usr/lib/ssl/cert.pem
}
rf_psql() { rf_bin "$PG/bin/psql" /usr/bin/psql; }
rf_stub_lib() { rf_file stubs/stub-lib.sh /usr/local/lib/e2e-stub/stub-lib.sh 644; }
rf_git() {
  local f
  rf_bin /usr/bin/git
  rf_link /usr/bin/git /usr/lib/git-core/git
  for f in $(find /usr/lib/git-core -maxdepth 1 -type l -lname git -printf '%f\n' | LC_ALL=C sort); do
    rf_link git "/usr/lib/git-core/$f"
  done
  rf_bin /usr/lib/git-core/git-remote-http
  for f in https ftp ftps; do rf_link git-remote-http "/usr/lib/git-core/git-remote-$f"; done
  rf_link git /usr/bin/git-upload-pack
  rf_link git /usr/bin/git-receive-pack
  rf_dir /usr/share/git-core/templates 755   # empty: git init needs no template, and warns if it is missing
}

# ref REFERENCE CONFIG_JSON: a name of the image, with its config (User, Entrypoint, Cmd,
# WorkingDir, Env, ...; Env gets PATH unless it sets one).
ref() {
  local config
  config=$(jq -c . <<<"$2") || die "$1: the config is not JSON: $2"
  if planning; then echo "ref $1 $config"; else printf '%s\t%s\n' "$1" "$config" >>"$REFS"; fi
}

# --- The images --------------------------------------------------------------------------------------
recipe_busybox() {
  rf_base
  rf_busybox "$BUSYBOX_BINARY"
  ref docker.io/library/busybox:1.36.1 '{"Cmd":["sh"]}'
}

recipe_curl() {
  rf_base curl_user:100:101:/home/curl_user:curl_group
  rf_dir /home/curl_user 755 100:101
  rf_busybox "$DEBIAN_BUSYBOX"
  rf_bin /usr/bin/curl
  rf_ca
  # The real image: Entrypoint ["/entrypoint.sh"], Cmd ["curl"]; the manifests always set command.
  ref docker.io/curlimages/curl:8.11.1 '{"User":"100","Entrypoint":["curl"]}'
}

recipe_git() {
  rf_base
  rf_busybox "$DEBIAN_BUSYBOX"
  rf_git
  rf_ca
  rf_dir /git 755
  ref docker.io/alpine/git:v2.45.1 '{"Entrypoint":["git"],"Cmd":["--help"],"WorkingDir":"/git"}'
}

recipe_openssl() {
  rf_base
  rf_busybox "$DEBIAN_BUSYBOX"
  rf_openssl
  rf_ca
  ref docker.io/alpine/openssl:3.3.2 '{"Entrypoint":["openssl"]}'
}

recipe_flyway() {
  rf_base
  rf_busybox "$DEBIAN_BUSYBOX"
  rf_psql
  rf_stub_lib
  rf_file stubs/flyway /flyway/flyway 755
  rf_link /flyway/flyway /usr/local/bin/flyway
  rf_dir /flyway/sql 755
  rf_dir /flyway/conf 755
  rf_ca
  ref docker.io/flyway/flyway:10.20.1 \
    '{"Entrypoint":["flyway"],"Cmd":["-?"],"WorkingDir":"/flyway","Env":["PATH=/flyway:'"$DEFAULT_PATH"'"]}'
}

recipe_liquibase() {
  rf_base liquibase:1001:1001:/liquibase
  rf_busybox "$DEBIAN_BUSYBOX"
  rf_psql
  rf_stub_lib
  rf_dir /liquibase 755 1001:1001
  rf_dir /liquibase/changelog 755 1001:1001
  rf_file stubs/liquibase /liquibase/liquibase 755
  rf_link /liquibase/liquibase /usr/local/bin/liquibase
  rf_ca
  ref docker.io/liquibase/liquibase:4.28.0 \
    '{"User":"1001","Entrypoint":["liquibase"],"Cmd":["--help"],"WorkingDir":"/liquibase","Env":["PATH=/liquibase:'"$DEFAULT_PATH"'"]}'
}

recipe_billing_migrations() {
  rf_base
  rf_busybox "$DEBIAN_BUSYBOX"
  rf_psql
  rf_stub_lib
  rf_file stubs/migrate /usr/local/bin/migrate 755
  rf_tree migrations/billing /migrations
  rf_ca
  ref ghcr.io/example/billing-migrations:2.0.4 '{"Entrypoint":["migrate"],"Cmd":["--help"]}'
}

# The app containers' stand-in, with each image's own user: the example apps' images name a numeric
# non-root user (1000), as restricted pods that set runAsNonRoot without runAsUser need; nginx's
# official image runs as root (the kubelet refuses it under runAsNonRoot), its unprivileged variant as 101.
recipe_app() {
  local spec name user config
  rf_base app:1000:1000:/home/app nginx:101:101:/nonexistent
  rf_busybox "$DEBIAN_BUSYBOX"
  rf_file app/stand-in-app /stand-in-app 755
  rf_dir /var/www 755
  rf_text /var/www/healthz 644 $'ok\n'
  rf_ca
  for spec in ghcr.io/example/orders:3.1.0=1000 ghcr.io/example/web:2.4.1=1000 ghcr.io/example/search:8.15.0= \
    ghcr.io/example/billing:2.0.4=1000 docker.io/library/nginx:1.27.3= docker.io/nginxinc/nginx-unprivileged:1.27.3=101 \
    docker.io/library/myapp:1.0=1000; do
    name=${spec%=*} user=${spec#*=}
    config='{"Entrypoint":["/stand-in-app"],"Env":["STAND_IN_IMAGE='"$name"'"],"ExposedPorts":{"8080/tcp":{}}'
    [ -z "$user" ] || config+=',"User":"'"$user"'"'
    ref "$name" "$config}"
  done
}

recipe_postgres() {
  local b lib
  rf_base postgres:999:999:/var/lib/postgresql
  rf_busybox "$DEBIAN_BUSYBOX"
  for b in postgres initdb pg_ctl psql pg_isready; do rf_bin "$PG/bin/$b"; done
  for lib in plpgsql dict_snowball libpqwalreceiver pgoutput pgcrypto; do rf_bin "$PG/lib/$lib.so"; done
  for lib in "$PG"/lib/*_and_*.so; do rf_bin "$lib"; done
  rf_tree /usr/share/postgresql/15 /usr/share/postgresql/15
  rf_host /usr/share/zoneinfo/Etc/UTC /usr/share/zoneinfo/UTC /usr/share/zoneinfo/Etc/GMT /usr/share/zoneinfo/GMT
  rf_openssl
  rf_ca
  rf_file postgres/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh 755
  rf_dir /docker-entrypoint-initdb.d 755
  rf_dir /var/lib/postgresql 755 999:999
  rf_dir /var/lib/postgresql/data 700 999:999
  rf_dir /var/run 755
  rf_dir /var/run/postgresql 3777 999:999
  ref docker.io/library/postgres:15 '{"User":"999","Entrypoint":["docker-entrypoint.sh"],"Cmd":["postgres"],
    "Env":["PATH='"$DEFAULT_PATH:$PG/bin"'","PG_MAJOR=15","PGDATA=/var/lib/postgresql/data"],
    "StopSignal":"SIGINT","ExposedPorts":{"5432/tcp":{}}}'
}

# Test helper pods: clients and servers (busybox httpd, openssl s_server, git http-backend).
recipe_e2e_tools() {
  rf_base
  rf_busybox "$DEBIAN_BUSYBOX"
  rf_bin /usr/bin/curl
  rf_openssl
  rf_psql
  rf_bin "$PG/bin/pg_isready" /usr/bin/pg_isready
  rf_git
  rf_bin /usr/lib/git-core/git-http-backend
  rf_ca
  ref docker.io/library/e2e-tools:1 '{"Entrypoint":["sh"]}'
}

recipe_pause() {
  rf_dir / 755
  if [ -x "$PAUSE_BINARY" ]; then
    rf_bin "$PAUSE_BINARY" /pause
  elif planning; then
    echo "pause.c $(content_fp "$here/pause.c") $(gcc -dumpfullversion)"
  else
    gcc -Os -static -o "$WORK/pause" "$here/pause.c" 2>"$WORK/pause.log" ||
      die "building pause failed: $(tail -n 1 "$WORK/pause.log")"
    strip "$WORK/pause"
    cp "$WORK/pause" "$ROOT/pause"
    chmod 755 "$ROOT/pause"
  fi
  local config='{"Entrypoint":["/pause"],"User":"65535:65535"}'
  ref registry.k8s.io/pause:3.2 "$config"
  ref k8s.gcr.io/pause:3.2 "$config"
}

images=(busybox curl git openssl flyway liquibase billing_migrations app postgres e2e_tools pause)

# --- OCI image layout ------------------------------------------------------------------------------
# blob FILE: moves FILE into the layout's blobs as sha256/<digest>; prints "<digest> <size>".
blob() {
  local digest size
  digest=sha256:$(sha256sum "$1" | cut -d ' ' -f 1)
  size=$(stat -c %s "$1")
  mv "$1" "$WORK/layout/blobs/sha256/${digest#sha256:}"
  echo "$digest $size"
}

# write_archive ARCHIVE: $ROOT as one layer, an image config and manifest per line of $REFS, the
# index naming them, tarred into ARCHIVE.
write_archive() {
  local layer layer_size diff_id name config config_digest config_size manifest manifest_digest manifest_size entries=()
  mkdir -p "$WORK/layout/blobs/sha256"
  (cd "$ROOT" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$WORK/files"
  tar -C "$ROOT" --numeric-owner --no-recursion --format=gnu --mtime=@0 \
    --verbatim-files-from -T "$WORK/files" -cf "$WORK/layer.tar"
  read -r layer layer_size < <(blob "$WORK/layer.tar")
  diff_id=$layer
  while IFS=$'\t' read -r name config; do
    jq -cS --arg diff "$diff_id" --arg path "PATH=$DEFAULT_PATH" --arg by "test/e2e/images/build.sh ($name)" '{
        architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
        config: (. + {Env: ((if any(.Env[]?; startswith("PATH=")) then [] else [$path] end) + (.Env // []))}),
        rootfs: {type: "layers", diff_ids: [$diff]},
        history: [{created: "1970-01-01T00:00:00Z", created_by: $by}]
      }' <<<"$config" | tr -d '\n' >"$WORK/config.json"
    read -r config_digest config_size < <(blob "$WORK/config.json")
    jq -cn --arg cd "$config_digest" --argjson cs "$config_size" --arg ld "$layer" --argjson ls "$layer_size" '{
        schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
        layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls}]
      }' | tr -d '\n' >"$WORK/manifest.json"
    read -r manifest_digest manifest_size < <(blob "$WORK/manifest.json")
    entries+=("$(jq -cn --arg d "$manifest_digest" --argjson s "$manifest_size" --arg name "$name" '{
        mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
        annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": ($name | sub("^.*:"; ""))},
        platform: {architecture: "amd64", os: "linux"}
      }')")
  done <"$REFS"
  printf '%s\n' "${entries[@]}" | jq -cs '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: .}' |
    tr -d '\n' >"$WORK/layout/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$WORK/layout/oci-layout"
  (cd "$WORK/layout" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$WORK/layout-files"
  tar -C "$WORK/layout" --numeric-owner --owner=0 --group=0 --no-recursion --format=gnu --mtime=@0 \
    --verbatim-files-from -T "$WORK/layout-files" -cf "$1"
}

# --- Build what changed ------------------------------------------------------------------------------
self_fp=$(cat "${BASH_SOURCE[0]}" | sha256sum | cut -c 1-16)
listing=()
built=0
for image in "${images[@]}"; do
  archive=${image//_/-}.tar
  keyfile=$out/.${image//_/-}.key
  MODE=plan
  plan=$("recipe_$image")
  key=$(printf '%s\n%s\n' "$self_fp" "$plan" | sha256sum | cut -c 1-32)
  while read -r word name _; do
    [ "$word" = ref ] && listing+=("$name $archive")
  done <<<"$plan"
  if [ -f "$out/$archive" ] && [ -f "$keyfile" ] && [ "$(cat "$keyfile")" = "$key" ]; then
    continue
  fi
  say "building $archive"
  WORK=$out/.work-${image//_/-}
  rm -rf "$WORK"
  mkdir -p "$WORK/rootfs"
  ROOT=$WORK/rootfs REFS=$WORK/refs MODE=build
  : >"$REFS"
  "recipe_$image"
  write_archive "$WORK/archive.tar"
  rm -f "$keyfile"
  mv "$WORK/archive.tar" "$out/$archive"
  echo "$key" >"$keyfile"
  rm -rf "$WORK"
  built=$((built + 1))
done

printf '%s\n' "${listing[@]}" >"$out/images.txt.new"
mv "$out/images.txt.new" "$out/images.txt"
say "$built of ${#images[@]} archives built, ${#listing[@]} image names in $out/images.txt ($((SECONDS - started))s)"
