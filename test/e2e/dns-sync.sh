#!/usr/bin/env bash
# The cluster DNS stand-in's data: writes a hosts file for dnsmasq from the Services and Endpoints
# (cluster IPs; the pods behind headless Services, by their hostnames too) and sends dnsmasq SIGHUP
# to re-read it when it changes.  dns-sync.sh <hosts file> <dnsmasq pid file>
set -uo pipefail
hosts=$1 pidfile=$2
while :; do
  if json=$(kubectl get services,endpoints --all-namespaces -o json 2>/dev/null); then
    next=$(jq -r '
      [.items[] | select(.kind == "Service" and .spec.clusterIP != "None" and .spec.clusterIP != null)
        | "\(.spec.clusterIP) \(.metadata.name).\(.metadata.namespace).svc.cluster.local"],
      [.items as $all | $all[] | select(.kind == "Service" and .spec.clusterIP == "None") as $svc
        | $all[] | select(.kind == "Endpoints" and .metadata.name == $svc.metadata.name and .metadata.namespace == $svc.metadata.namespace)
        | .subsets[]?.addresses[]?
        | "\(.ip) \($svc.metadata.name).\($svc.metadata.namespace).svc.cluster.local",
          (select(.hostname != null) | "\(.ip) \(.hostname).\($svc.metadata.name).\($svc.metadata.namespace).svc.cluster.local")]
      | .[]' <<<"$json" | sort)
    if [ "$next" != "$(cat "$hosts")" ]; then
      printf '%s\n' "$next" >"$hosts.new" && mv "$hosts.new" "$hosts"
      kill -HUP "$(cat "$pidfile")" 2>/dev/null
    fi
  fi
  sleep 1
done
