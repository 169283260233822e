#!/usr/bin/env bash
# `npm run test:e2e`: the real-cluster tier. Runs the synthesized examples, unchanged, on a
# single-node Kubernetes 1.20 built from Debian's packages (../shared/notes/real-cluster.md):
#   1. installs the Debian packages it needs (as root with apt-get);
#   2. builds the Kubernetes binaries from Debian's `kubernetes` source package, once (cached);
#   3. builds the stand-in images from Debian packages under the manifests' exact image names (cached);
#   4. starts the cluster inside network, mount and PID namespaces it creates, runs the jest e2e
#      suite there, and tears it all down: the namespaces end with their processes.
# It never passes silently: a machine that cannot run it (not root, no namespaces) stops it with one
# message saying why.
set -euo pipefail
cd "$(dirname "$0")/../.."

cache=${CDK8S_INIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-init}
kube_bin=$cache/kubernetes-1.20.2
images=$cache/e2e-images
started=$SECONDS

say() { echo "test:e2e: $*"; }
die() { echo "test:e2e: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] ||
  die "the real-cluster tier starts a kubelet, containerd and network namespaces, which needs root; run it as root (e.g. in a CI container)"
# The cluster's mounts must not reach the host. unshare makes the new mount namespace private by
# remounting "/", which fails in a chroot (its "/" is no mount point); where no mount is shared (no
# "shared:" in mountinfo, as in the fresh-machine chroot) nothing propagates anyway.
propagation=unchanged
grep -q ' shared:' /proc/self/mountinfo && propagation=private
unshare_error=$(unshare --net --mount --pid --fork --mount-proc --propagation "$propagation" true 2>&1) ||
  die "this machine cannot create the network, mount and PID namespaces the cluster runs in: ${unshare_error:-unshare failed}"
[ -d /sys/fs/cgroup ] || die "no /sys/fs/cgroup: the kubelet needs cgroups"

# command-or-path -> Debian package
need=(
  'containerd:containerd' 'runc:runc' 'etcd:etcd-server' 'docker-registry:docker-registry'
  '/usr/lib/cni/ptp:containernetworking-plugins' 'dnsmasq:dnsmasq-base' 'conntrack:conntrack' 'iptables:iptables'
  'ip:iproute2' 'jq:jq' 'curl:curl' 'openssl:openssl' 'mountpoint:util-linux'
  # the Kubernetes build
  'go:golang-go' 'rsync:rsync' 'gcc:gcc' '/usr/include/stdio.h:libc6-dev' 'dpkg-source:dpkg-dev' 'xz:xz-utils'
  '/usr/share/gocode/src/github.com/modern-go/reflect2/go_above_118.go:golang-github-modern-go-reflect2-dev'
  # the stand-in images' contents
  'git:git' 'psql:postgresql-client' '/usr/lib/postgresql/*/bin/postgres:postgresql'
)
apt_label=test:e2e
# shellcheck source=test/apt.sh
. test/apt.sh
install_missing "${need[@]}"

if [ ! -x "$kube_bin/kubelet" ]; then
  say "building Kubernetes 1.20 from Debian's source package (once; cached in $kube_bin)"
  step=$SECONDS
  bash test/e2e/build-kubernetes.sh "$kube_bin"
  say "built Kubernetes in $((SECONDS - step))s"
fi

# The tier's CA: the stand-in images trust it (as images trust a private CA), and the tests sign the
# certificates of the hosts outside the cluster with it.
if [ ! -f "$images/ca/ca.crt" ]; then
  mkdir -p "$images/ca"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=cdk8s-init e2e CA' \
    -keyout "$images/ca/ca.key" -out "$images/ca/ca.crt" 2>/dev/null
fi
step=$SECONDS
E2E_EXTRA_CA="$images/ca/ca.crt" bash test/e2e/images/build.sh "$images"
say "images ready in $((SECONDS - step))s"

# The manifests under test: the examples as `npm run examples` synthesizes them.
step=$SECONDS
npx projen examples >/dev/null
say "examples synthesized in $((SECONDS - step))s"

# The files share the node, each in namespaces of its own. The SIGTERM timings run first and alone,
# so no other test loads the node while they are measured; the others run three at a time, as they
# mostly wait (for pulls, probes, back-off). Arguments (files, -t) run just those, one at a time.
jest='npx jest --config test/e2e/jest.config.json --ci'
if [ "$#" -gt 0 ]; then
  jest_command="$jest --runInBand \"\$@\""
else
  jest_command="$jest --runInBand test/e2e/failures.e2e.ts; first=\$?
    $jest --maxWorkers=3 --testPathIgnorePatterns test/e2e/failures.e2e.ts; rest=\$?
    [ \$first -eq 0 ] && [ \$rest -eq 0 ]"
fi

state=$(mktemp -d /tmp/cdk8s-init-e2e.XXXXXX)
say "starting the cluster (state and logs in $state)"
set +e
unshare --net --mount --pid --fork --mount-proc --propagation "$propagation" \
  bash test/e2e/cluster.sh "$kube_bin" "$images" "$state" -- bash -c "$jest_command" jest "$@"
rc=$?
set -e
say "tier finished in $((SECONDS - started))s (exit $rc)"
if [ "$rc" -eq 0 ]; then rm -rf "$state"; else say "component logs kept in $state/logs"; fi
exit "$rc"
