# wait-for-job: blocks until a Job completes, reading its status from the
# Kubernetes API with the pod's service account token. A failed Job fails this
# step at once (unlike `kubectl wait --for=condition=complete`, which waits on).
#   JOB_NAME        the Job
#   JOB_NAMESPACE   its namespace (default: the pod's)
#   WAIT_TIMEOUT    overall timeout, seconds
# The API is found as client-go's in-cluster config finds it: the kubelet's
# KUBERNETES_SERVICE_HOST/PORT, the mounted token and CA.
STEP=wait-for-job
SA_DIR=/var/run/secrets/kubernetes.io/serviceaccount

# JSON field of the (whitespace-normalized) status: number, or 0.
count() {
  n=$(printf '%s' "$json" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p")
  echo "${n:-0}"
}

# The message of an API Status object, unescaped.
api_message() {
  printf '%s' "$json" | sed -nE 's/.*"message":"(([^"\\]|\\.)*)".*/\1/p' | sed 's/\\\(.\)/\1/g'
}

# get_job: one read of the Job. 0: complete; 2: failed, or not allowed; 1: any
# other state, in $err. The token is read each time: the kubelet rotates it.
get_job() {
  out=$(printf 'Authorization: Bearer %s\n' "$(cat "$SA_DIR/token")" |
    curl -sS -H @- --cacert "$SA_DIR/ca.crt" --connect-timeout "$attempt_s" --max-time "$attempt_s" \
      -w '\n%{http_code}' "$url" 2>&1)
  [ $? -eq 28 ] && err_timed_out=1
  code=$(printf '%s\n' "$out" | tail -n 1)
  # Compact the JSON so patterns match whether or not it is pretty-printed.
  json=$(printf '%s\n' "$out" | sed '$d' | tr -d '\n' | sed 's/":[ ]*/":/g; s/,[ ]*"/,"/g')
  case "$code" in
    200)
      case "$json" in
        *'"type":"Complete","status":"True"'*) return 0 ;;
        *'"type":"Failed","status":"True"'*)
          why=$(printf '%s' "$json" | sed -n 's/.*"type":"Failed","status":"True"[^}]*"reason":"\([^"]*\)","message":"\([^"]*\)".*/\1: \2/p')
          err="job $job failed: ${why:-see kubectl describe job -n $ns $JOB_NAME}"
          return 2 ;;
      esac
      err="running (active $(count active), failed pods $(count failed))" ;;
    404) err="not found yet" ;;
    401)
      err="the API rejected the service account token (HTTP 401): $(api_message)"
      return 2 ;;
    403)
      err="not allowed to read job $job (HTTP 403): $(api_message); the pod's service account needs get on jobs (RBAC)"
      return 2 ;;
    000) err="API unreachable: $(last_line "$(printf '%s\n' "$out" | sed '$d')")" ;;
    *) err="API answered HTTP $code" ;;
  esac
  return 1
}

report() {
  log "job $job $2"
}

main() {
  [ -r "$SA_DIR/token" ] || fail "no service account token at $SA_DIR/token; the step needs its projected token volume (WaitForJob adds it)"
  ns=${JOB_NAMESPACE:-$(cat "$SA_DIR/namespace")}
  job="$ns/$JOB_NAME"
  host=${KUBERNETES_SERVICE_HOST:-kubernetes.default.svc}
  case "$host" in *:*) host="[$host]" ;; esac
  url="https://$host:${KUBERNETES_SERVICE_PORT:-443}/apis/batch/v1/namespaces/$ns/jobs/$JOB_NAME"

  DEADLINE_MS=$(( $(now_ms) + WAIT_TIMEOUT * 1000 ))
  RETRY_MIN_MS=500 RETRY_MAX_MS=5000 ATTEMPT_S=10 RETRY_REPORT=report
  retry "job $job" get_job
  case $? in
    0) log "job $job completed" ;;
    2) fail "$err" ;;
    *) fail "timed out after ${WAIT_TIMEOUT}s waiting for job $job; last state: $err" ;;
  esac
}

run_main main
