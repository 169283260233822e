# wait-for-job: blocks until a Job completes, reading its status from the
# Kubernetes API with the pod's service account token. A failed Job fails this
# step at once (unlike `kubectl wait --for=condition=complete`, which waits on).
#   JOB_NAME        the Job
#   JOB_NAMESPACE   its namespace (default: the pod's)
#   WAIT_TIMEOUT    overall timeout, seconds
#   KUBE_API_URL, KUBE_SERVICE_ACCOUNT_DIR  overrides (default: the in-cluster API and token)
STEP=wait-for-job

sa=${KUBE_SERVICE_ACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
api=${KUBE_API_URL:-https://kubernetes.default.svc}
[ -r "$sa/token" ] || fail "no service account token at $sa/token; the pod needs automountServiceAccountToken"
ns=${JOB_NAMESPACE:-$(cat "$sa/namespace")}
job="$ns/$JOB_NAME"
url="$api/apis/batch/v1/namespaces/$ns/jobs/$JOB_NAME"

# JSON field of the (whitespace-normalized) status: number, or 0.
count() {
  n=$(printf '%s' "$json" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p")
  echo "${n:-0}"
}

deadline=$(( $(now_s) + WAIT_TIMEOUT ))
delay=1
last=
while :; do
  out=$(printf 'Authorization: Bearer %s\n' "$(cat "$sa/token")" |
    curl -sS -H @- --cacert "$sa/ca.crt" --connect-timeout 5 --max-time 10 -w '\n%{http_code}' "$url" 2>&1)
  code=$(printf '%s\n' "$out" | tail -n 1)
  # Compact the JSON so patterns match whether or not it is pretty-printed.
  json=$(printf '%s\n' "$out" | sed '$d' | tr -d '\n' | sed 's/":[ ]*/":/g; s/,[ ]*"/,"/g')
  case "$code" in
    200)
      case "$json" in
        *'"type":"Complete","status":"True"'*)
          log "job $job completed"
          exit 0 ;;
        *'"type":"Failed","status":"True"'*)
          why=$(printf '%s' "$json" | sed -n 's/.*"type":"Failed","status":"True"[^}]*"reason":"\([^"]*\)","message":"\([^"]*\)".*/\1: \2/p')
          fail "job $job failed: ${why:-see kubectl describe job -n $ns $JOB_NAME}" ;;
      esac
      state="running (active $(count active), failed pods $(count failed))" ;;
    404) state="not found yet" ;;
    401|403) fail "not allowed to read job $job (HTTP $code): the pod's service account needs get on jobs (RBAC)" ;;
    000) state="API unreachable: $(printf '%s\n' "$out" | sed -n 's/^curl: ([0-9]*) //p' | tail -n 1)" ;;
    *) state="API answered HTTP $code" ;;
  esac
  [ "$state" != "$last" ] && log "job $job $state"
  last=$state
  if [ "$(now_s)" -ge "$deadline" ]; then
    fail "timed out after ${WAIT_TIMEOUT}s waiting for job $job; last state: $state"
  fi
  sleep "$delay"
  delay=$(( delay * 2 ))
  [ "$delay" -gt 5 ] && delay=5
done
