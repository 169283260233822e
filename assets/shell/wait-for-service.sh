# wait-for-service: block until every target is ready, checking all of them in
# parallel, within an overall timeout. POSIX sh for busybox (ash).
#
# Configuration comes only from the environment, set by the WaitForService
# construct; nothing user-supplied is ever part of this script's text.
#   WAIT_TARGETS          one target per line, fields separated by single spaces:
#                           tcp HOST PORT
#                           http|https HOST PORT PATH EXPECT   (EXPECT: comma-separated glob patterns, e.g. 2??,401)
#                           dns HOST [SERVER]
#   WAIT_TIMEOUT          overall timeout, whole seconds
#   WAIT_MIN_INTERVAL_MS  first retry delay (backs off by 1.5x per attempt)
#   WAIT_MAX_INTERVAL_MS  longest retry delay
#   WAIT_ATTEMPT_TIMEOUT  longest single check, whole seconds
# Exit status: 0 when all targets are ready, 1 when the timeout passed first,
# 2 when the configuration is malformed.
STEP=wait-for-service

# Milliseconds since boot, from /proc/uptime (no fork; centisecond resolution).
now_ms() {
  read -r up _ </proc/uptime
  cs="${up%.*}${up#*.}"
  cs="${cs#"${cs%%[!0]*}"}"
  echo $(( ${cs:-0} * 10 ))
}

seconds() {
  echo "$(( $1 / 1000 )).$(( $1 % 1000 / 100 ))s"
}

# Last non-empty line of a tool's output, without the tool's "name: " prefix.
last_line() {
  printf '%s\n' "$1" | sed -n 's/^[a-z]*: //; s/^\*\* //; /[^ ]/h; ${x;p;}'
}

# probe KIND HOST PORT PATH EXPECT: returns 0 when ready, else sets $err.
probe() {
  t=$attempt
  case "$1" in
    tcp)
      out=$(timeout "$t" nc -w "$t" "$2" "$3" -e true </dev/null 2>&1) && return 0
      err=$(last_line "$out")
      ;;
    http|https)
      host="$2"
      case "$host" in *:*) host="[$host]" ;; esac
      out=$(timeout "$t" wget -S -O /dev/null --no-check-certificate "$1://$host:$3$4" 2>&1)
      code=$(printf '%s\n' "$out" | sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' | tail -n 1)
      if [ -n "$code" ]; then
        old_ifs=$IFS; IFS=,
        for pattern in $5; do
          # shellcheck disable=SC2254 # the pattern is a validated glob such as 2??
          case "$code" in $pattern) IFS=$old_ifs; return 0 ;; esac
        done
        IFS=$old_ifs
        err="HTTP $(printf '%s\n' "$out" | sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9].*\)/\1/p' | tail -n 1 | tr -d '\r')"
      else
        err=$(last_line "$out")
      fi
      ;;
    dns)
      out=$(timeout "$t" nslookup "$2" ${3:+"$3"} 2>&1) && return 0
      err=$(last_line "$out")
      ;;
    *)
      err="unknown check '$1'"
      return 2
      ;;
  esac
  [ -n "$err" ] || err="no answer within ${t}s"
  return 1
}

# watch LABEL KIND ARGS...: polls one target with backoff until it is ready or
# the deadline passes; writes one event line per state change to stdout.
watch() {
  label=$1; shift
  delay=$WAIT_MIN_INTERVAL_MS
  last=
  while :; do
    left=$(( deadline - $(now_ms) ))
    attempt=$(( (left + 999) / 1000 ))
    [ "$attempt" -gt "$WAIT_ATTEMPT_TIMEOUT" ] && attempt=$WAIT_ATTEMPT_TIMEOUT
    [ "$attempt" -lt 1 ] && attempt=1
    probe "$@"
    case $? in
      0) echo "ready $label"; return 0 ;;
      2) echo "invalid $label $err"; return 2 ;;
    esac
    [ "$err" != "$last" ] && echo "waiting $label $err"
    last=$err
    left=$(( deadline - $(now_ms) ))
    if [ "$left" -le 0 ]; then
      echo "timeout $label $err"
      return 1
    fi
    [ "$delay" -gt "$left" ] && delay=$left
    sleep "$(( delay / 1000 )).$(printf '%03d' $(( delay % 1000 )))"
    delay=$(( delay * 3 / 2 ))
    [ "$delay" -gt "$WAIT_MAX_INTERVAL_MS" ] && delay=$WAIT_MAX_INTERVAL_MS
  done
}

label_of() {
  case "$1" in
    tcp) case "$2" in *:*) echo "[$2]:$3" ;; *) echo "$2:$3" ;; esac ;;
    http|https) case "$2" in *:*) echo "$1://[$2]:$3$4" ;; *) echo "$1://$2:$3$4" ;; esac ;;
    *) echo "$1:$2" ;;
  esac
}

start_watch() {
  watch "$(label_of "$@")" "$@" &
}

# Starts one watcher per target and waits for all of them.
watch_all() {
  each_line "$WAIT_TARGETS" start_watch
  wait
}

# Appends "LABEL (last error)" to $summary if that target failed; called per
# configured target, so the summary lists targets in the order they were given.
summarize_failure() {
  label=$(label_of "$@")
  msg=$(printf '%s\n' "$failed" | awk -v l="$label" 'index($0, l " ") == 1 { print substr($0, length(l) + 2); exit }')
  [ -n "$msg" ] && summary="$summary, $label ($msg)"
}

# Turns events into progress lines and, last, the one line that explains the outcome.
report() {
  ready=0
  failed=
  while IFS= read -r event; do
    kind=${event%% *}; rest=${event#* }
    label=${rest%% *}; msg=${rest#"$label"}; msg=${msg# }
    elapsed=$(seconds $(( $(now_ms) - started )))
    case $kind in
      ready) ready=$(( ready + 1 )); log "$label is ready after $elapsed" ;;
      waiting) log "$label not ready yet: $msg" ;;
      timeout|invalid) failed="$failed
$label ${msg:-unknown error}" ;;
    esac
  done
  if [ -n "$failed" ]; then
    summary=
    each_line "$WAIT_TARGETS" summarize_failure
    log "timed out after ${WAIT_TIMEOUT}s; not ready: ${summary#, }"
    return 1
  fi
  log "all $ready targets ready after $(seconds $(( $(now_ms) - started )))"
}

for var in WAIT_TARGETS WAIT_TIMEOUT WAIT_MIN_INTERVAL_MS WAIT_MAX_INTERVAL_MS WAIT_ATTEMPT_TIMEOUT; do
  eval "value=\${$var:-}"
  if [ -z "$value" ]; then
    log "$var is not set" >&2
    exit 2
  fi
done

started=$(now_ms)
deadline=$(( started + WAIT_TIMEOUT * 1000 ))
watch_all | report
