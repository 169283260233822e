#!/usr/bin/env bash
# Builds the Kubernetes 1.20 binaries of the real-cluster tier from Debian's `kubernetes` source
# package, once, into $1 (a cache directory outside the repo). Later runs find them and skip this.
#
# Two fixes the 1.20 source needs on these machines (../shared/notes/real-cluster.md):
# - the vendored modern-go/reflect2 v1.0.1 faults under Go >= 1.18 (kube-apiserver dies after about
#   15 minutes, modern-go/reflect2#26): Debian's 1.0.2 source replaces it;
# - the kubelet rewrites machine-wide sysctls (vm.overcommit_memory, kernel.panic, ...) on start:
#   it only warns here, since those sysctls are not namespaced and belong to the host.
set -euo pipefail

out=$1
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

apt_label=test:e2e
# shellcheck source=test/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/../apt.sh"
apt_source kubernetes "$work"
src=$(find "$work" -maxdepth 1 -type d -name 'kubernetes-*' | head -1)

reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -f "$reflect2/go_above_118.go" ] || { echo "test:e2e: $reflect2 is not reflect2 >= 1.0.2 (package golang-github-modern-go-reflect2-dev)" >&2; exit 1; }
rm -rf "$src/vendor/github.com/modern-go/reflect2"
cp -r "$reflect2" "$src/vendor/github.com/modern-go/reflect2"
rm -f "$src/vendor/github.com/modern-go/reflect2/go.mod"

tunables=$src/pkg/kubelet/cm/container_manager_linux.go
grep -q 'b := KernelTunableModify' "$tunables" || { echo "test:e2e: cannot find the kubelet's sysctl rewrite in $tunables" >&2; exit 1; }
sed -i 's/b := KernelTunableModify/b := KernelTunableWarn/' "$tunables"

# The source carries every generated file but the kube-apiserver's OpenAPI definitions: generate
# only those (`make WHAT=...` would regenerate all of them first, a minute more), then build.
what=()
for binary in "${binaries[@]}"; do what+=("cmd/$binary"); done
(cd "$src" && export CGO_ENABLED=0 GOCACHE="$work/gocache" KUBE_BUILD_PLATFORMS=linux/amd64 &&
  make gen_openapi && hack/make-rules/build.sh "${what[@]}") >"$work/build.log" 2>&1 ||
  { echo "test:e2e: building Kubernetes failed: $(tail -n 3 "$work/build.log")" >&2; exit 1; }

# The pod sandbox ("pause") image's one binary, from the same source.
gcc -Os -static -o "$work/pause" "$src/build/pause/linux/pause.c" 2>"$work/pause.log" ||
  { echo "test:e2e: building pause failed: $(tail -n 1 "$work/pause.log")" >&2; exit 1; }

mkdir -p "$out.partial"
for binary in "${binaries[@]}"; do cp "$src/_output/local/bin/linux/amd64/$binary" "$out.partial/"; done
cp "$work/pause" "$out.partial/"
rm -rf "$out" && mv "$out.partial" "$out"
