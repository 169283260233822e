#!/usr/bin/env bash
# Starts a single-node Kubernetes 1.20 and runs a command against it, inside the network, mount and
# PID namespaces that test/e2e/run.sh creates (this script is PID 1 there): nothing listens on the
# host network, state lives on tmpfs mounts only this namespace sees, and when the command ends every
# process started here ends with it (the kernel kills a PID namespace with its first process).
#
#   cluster.sh <kubernetes binaries dir> <images dir> <state dir> -- <command...>
#
# The command runs with KUBECONFIG set (cluster admin), kubectl on PATH and E2E_* variables
# (node IP, registry, hostPath root). Component logs are in <state dir>/logs.
set -euo pipefail

# In a chroot, the root of this mount namespace is the host's, not the chroot: runc cannot make a
# container's root a slave of "/" ("mount /, flags: 0x84000: invalid argument"), and `kubectl exec`
# (runc exec joins the container's mount namespace at that namespace's root) would land outside the
# container. So the chroot, bound to a mount of its own, becomes this namespace's root (pivot_root
# from the namespace's real root, which a root process in a chroot can reach), and the script starts
# again there. This changes nothing outside the namespace.
if ! mountpoint -q /; then
  mkdir -p /run/cdk8s-init-e2e-root /run/cdk8s-init-e2e-escape
  mount --rbind / /run/cdk8s-init-e2e-root
  exec perl -e '
    my ($cwd, @command) = @ARGV;
    chroot("/run/cdk8s-init-e2e-escape") or die "chroot: $!\n";   # the working directory stays outside it
    chdir("..") for 1 .. 256;
    chroot(".") or die "chroot: $!\n";
    open(my $mounts, "<", "/proc/self/mountinfo") or die "mountinfo: $!\n";
    my ($root) = grep { m{/run/cdk8s-init-e2e-root$} } map { (split / /)[4] } <$mounts>;
    defined $root or die "cannot find the bind mount of the chroot\n";
    chdir($root) or die "chdir $root: $!\n";
    my ($new, $old, $old_abs) = (".", "run/cdk8s-init-e2e-escape", "/run/cdk8s-init-e2e-escape");  # syscall wants variables
    syscall(155, $new, $old) == 0 or die "pivot_root: $!\n";          # SYS_pivot_root
    chdir("/");
    syscall(166, $old_abs, 2) == 0 or die "umount the old root: $!\n";  # SYS_umount2, MNT_DETACH
    chdir($cwd) or die "chdir $cwd: $!\n";
    exec("/bin/bash", @command) or die "exec: $!\n";
  ' "$PWD" "$0" "$@"
fi

bin=$1 images=$2 state=$3
shift 3
[ "${1:-}" = -- ] && shift

node_ip=10.200.0.1
pod_cidr=10.244.0.0/24
service_cidr=10.96.0.0/24
# Hosts outside the cluster that the examples name: the test process serves them on the node's IP.
external_hosts="config.example.com git.example.com"
cgroup_root=cdk8s-init-e2e-${state##*.}
logs=$state/logs
pki=$state/pki
mkdir -p "$logs" "$pki"
export PATH=$bin:$PATH

say() { echo "test:e2e: $*"; }
die() { echo "test:e2e: $*" >&2; exit 1; }

# Waits until `$2...` succeeds, at most $1 seconds, naming what did not come up.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what did not come up in ${seconds}s; see $logs"
    sleep 0.2
  done
}

# Starts a component in the background with its output in $logs/<name>.log.
start() {
  local name=$1; shift
  "$@" >"$logs/$name.log" 2>&1 &
  echo $! >"$state/$name.pid"
  disown
}

# On the way out: every process here ends (this is PID 1 of the namespace), then the cgroups the
# kubelet made for its pods are removed, since cgroups outlive a mount namespace.
teardown() {
  trap '' TERM INT
  kill -KILL -1 2>/dev/null || true
  for _ in $(seq 50); do
    [ -z "$(ls /proc | grep -E '^[0-9]+$' | grep -vx 1 | grep -vx $$)" ] && break
    sleep 0.1
  done
  find /sys/fs/cgroup/*/"$cgroup_root" -depth -type d -exec rmdir {} + 2>/dev/null || true
}
trap teardown EXIT

# --- mounts: state that must not be the host's -----------------------------------------------
# (run.sh made the namespace private, or found no shared mount to leak through)
for dir in /run /var/log /var/lib/kubelet /var/lib/containerd /var/lib/cni /etc/cni /opt/cni; do
  mkdir -p "$dir"
  mount -t tmpfs -o mode=0755 tmpfs "$dir"
done
# The kubelet's mounts (volumes) must propagate to the containers runc starts.
mount --bind /var/lib/kubelet /var/lib/kubelet && mount --make-rshared /var/lib/kubelet
# A chroot (or a container) may have /sys without the cgroup hierarchies: mount them here as the
# kernel has them (/proc/self/cgroup names each v1 hierarchy by its co-mounted controllers).
if ! mountpoint -q /sys/fs/cgroup/memory 2>/dev/null && [ ! -e /sys/fs/cgroup/memory/tasks ]; then
  mountpoint -q /sys/fs/cgroup || mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
  while IFS=: read -r _ controllers _; do
    case $controllers in
      '') continue ;;   # the v2 hierarchy; the kubelet here uses v1
      name=*) options=none,$controllers dir=${controllers#name=} ;;
      *) options=$controllers dir=$controllers ;;
    esac
    mkdir -p "/sys/fs/cgroup/$dir"
    mount -t cgroup -o "$options" cgroup "/sys/fs/cgroup/$dir" ||
      die "cannot mount the cgroup v1 hierarchy $controllers (the kubelet needs cgroups v1)"
    # Co-mounted controllers (cpu,cpuacct) are also found under each one's name.
    if [ "$dir" != "${dir%,*}" ]; then
      for one in ${dir//,/ }; do [ -e "/sys/fs/cgroup/$one" ] || ln -s "$dir" "/sys/fs/cgroup/$one"; done
    fi
  done </proc/self/cgroup
  [ -e /sys/fs/cgroup/memory/tasks ] || die "no cgroup v1 memory hierarchy on this kernel (the kubelet needs cgroups v1)"
fi
# The kubelet's own cgroup root, so its pods' cgroups are ours to remove afterwards.
for hierarchy in /sys/fs/cgroup/*/; do
  [ -L "${hierarchy%/}" ] && continue
  mkdir -p "$hierarchy$cgroup_root"
done

# --- network: loopback, and a veth pair whose one end is the node ---------------------------------
ip link set lo up
ip link add e2e-node type veth peer name e2e-peer
ip addr add "$node_ip/24" dev e2e-node
ip link set e2e-node up && ip link set e2e-peer up
ip route add default dev e2e-node
echo 1 >/proc/sys/net/ipv4/ip_forward
echo 1 >/proc/sys/net/ipv4/conf/all/route_localnet

# --- certificates: one CA; the apiserver's serving cert; one admin client for every component ---
openssl_quiet() { openssl "$@" 2>/dev/null; }
openssl_quiet req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=e2e-ca -keyout "$pki/ca.key" -out "$pki/ca.crt"
issue() { # name subject [subjectAltName]
  openssl_quiet req -newkey rsa:2048 -nodes -subj "$2" -keyout "$pki/$1.key" -out "$pki/$1.csr"
  local ext=$pki/$1.ext
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' >"$ext"
  [ -z "${3:-}" ] || echo "subjectAltName=$3" >>"$ext"
  openssl_quiet x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 -extfile "$ext" -out "$pki/$1.crt"
}
issue apiserver /CN=kube-apiserver \
  "IP:10.96.0.1,IP:$node_ip,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
issue admin '/O=system:masters/CN=e2e-admin'
openssl_quiet genrsa -out "$pki/sa.key" 2048
openssl_quiet rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub"

export KUBECONFIG=$state/admin.kubeconfig
cat >"$KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "https://$node_ip:6443", certificate-authority: "$pki/ca.crt"}
users:
- name: admin
  user: {client-certificate: "$pki/admin.crt", client-key: "$pki/admin.key"}
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
EOF

# --- control plane -------------------------------------------------------------------------------
say "starting etcd, kube-apiserver, controller-manager, scheduler"
start etcd etcd --name e2e --data-dir "$state/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster e2e=http://127.0.0.1:2380
start kube-apiserver kube-apiserver \
  --etcd-servers=http://127.0.0.1:2379 --advertise-address="$node_ip" --bind-address=0.0.0.0 \
  --secure-port=6443 --insecure-port=0 --service-cluster-ip-range="$service_cidr" \
  --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" --client-ca-file="$pki/ca.crt" \
  --kubelet-client-certificate="$pki/admin.crt" --kubelet-client-key="$pki/admin.key" --kubelet-preferred-address-types=InternalIP \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --authorization-mode=Node,RBAC --allow-privileged=true --profiling=false \
  --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,ResourceQuota,NodeRestriction
wait_for 60 kube-apiserver kubectl get --raw /readyz
start kube-controller-manager kube-controller-manager --kubeconfig="$KUBECONFIG" --leader-elect=false \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --use-service-account-credentials=false --profiling=false \
  --terminated-pod-gc-threshold=100 --pod-eviction-timeout=24h --node-monitor-grace-period=5m
start kube-scheduler kube-scheduler --kubeconfig="$KUBECONFIG" --leader-elect=false --profiling=false

# --- node: registry, containerd, kubelet, kube-proxy, DNS ------------------------------------------
say "starting the image registry and containerd"
cat >"$state/registry.yml" <<EOF
version: 0.1
storage: {filesystem: {rootdirectory: $state/registry}}
http: {addr: 127.0.0.1:5000}
log: {level: warn}
EOF
start registry docker-registry serve "$state/registry.yml"

mkdir -p /etc/cni/net.d
cat >/etc/cni/net.d/10-e2e.conflist <<EOF
{"cniVersion": "0.4.0", "name": "e2e", "plugins": [
  {"type": "ptp", "ipMasq": false, "mtu": 1500,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$pod_cidr"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
mkdir -p /etc/containerd/certs.d
cat >"$state/containerd.toml" <<EOF
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "k8s.gcr.io/pause:3.2"
  # Without CAP_SYS_RESOURCE (these machines drop it) no process may lower its OOM score, and the
  # kubelet asks -998 for every pod sandbox: keep scores at or above containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
    endpoint = ["http://127.0.0.1:5000"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."ghcr.io"]
    endpoint = ["http://127.0.0.1:5000"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."k8s.gcr.io"]
    endpoint = ["http://127.0.0.1:5000"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."registry.k8s.io"]
    endpoint = ["http://127.0.0.1:5000"]
EOF
start containerd containerd --config "$state/containerd.toml"
wait_for 30 containerd ctr version
wait_for 30 "the image registry" curl -sf http://127.0.0.1:5000/v2/

# Every image, imported under its exact name and pushed to the registry (for imagePullPolicy: Always).
say "importing the stand-in images"
while read -r ref archive; do
  [ -n "$ref" ] || continue
  ctr -n k8s.io images import --no-unpack "$images/$archive" >/dev/null
  name=${ref#*/}
  ctr -n k8s.io images push --plain-http "127.0.0.1:5000/$name" "$ref" >/dev/null 2>>"$logs/push.log" ||
    die "cannot push $ref to the local registry: $(tail -n 1 "$logs/push.log")"
done <"$images/images.txt"

say "starting the kubelet and kube-proxy"
cat >"$state/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: /$cgroup_root
clusterDNS: ["$node_ip"]
clusterDomain: cluster.local
failSwapOn: false
resolvConf: ""
evictionHard: {memory.available: "100Mi"}
evictionPressureTransitionPeriod: 5s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
syncFrequency: 10s
fileCheckFrequency: 10s
nodeStatusUpdateFrequency: 4s
EOF
start kubelet kubelet --config="$state/kubelet.yaml" --kubeconfig="$KUBECONFIG" \
  --container-runtime=remote --container-runtime-endpoint=unix:///run/containerd/containerd.sock \
  --hostname-override=e2e-node --node-ip="$node_ip" --root-dir=/var/lib/kubelet
cat >"$state/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$KUBECONFIG"}
mode: iptables
clusterCIDR: $pod_cidr
hostnameOverride: e2e-node
bindAddress: $node_ip
# Conntrack table sizes are the host's: leave them as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
start kube-proxy kube-proxy --config="$state/kube-proxy.yaml"

# Cluster DNS: dnsmasq answers from a hosts file that follows the Services (and the pods behind
# headless ones), rewritten when they change.
: >"$state/dns.hosts"
# --user=root: the hosts file is in the private state directory.
start dnsmasq dnsmasq --keep-in-foreground --user=root --no-resolv --no-hosts --listen-address="$node_ip" --bind-interfaces \
  --addn-hosts="$state/dns.hosts" --local=/cluster.local/ --domain-needed --log-facility=- \
  $(for host in $external_hosts; do echo "--address=/$host/$node_ip"; done)
start dns-sync bash "$(dirname "$0")/dns-sync.sh" "$state/dns.hosts" "$state/dnsmasq.pid"

wait_for 90 "node e2e-node Ready" sh -c 'kubectl get node e2e-node -o jsonpath="{.status.conditions[?(@.type==\"Ready\")].status}" | grep -qx True'
wait_for 30 "the default service account" kubectl -n default get serviceaccount default
say "node Ready after ${SECONDS}s"

export E2E_NODE_IP=$node_ip E2E_STATE=$state E2E_LOGS=$logs E2E_CA_CERT=$images/ca/ca.crt E2E_CA_KEY=$images/ca/ca.key
set +e
"$@"
rc=$?
set -e

exit "$rc"
