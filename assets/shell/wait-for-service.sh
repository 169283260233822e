# wait-for-service: block until every target is ready, checking all of them in
# parallel, within an overall timeout. POSIX sh for busybox (ash); uses lib.sh.
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
# HTTP(S) checks use curl when the image has it (busybox wget's TLS fails
# against common servers), else busybox wget.
# Exit status: 0 when every target reported ready, 1 when the timeout passed
# first or a check ended without a result, 2 when the configuration is malformed.
STEP=wait-for-service

# check_number NAME: the variable NAME holds a whole number.
check_number() {
  eval "_value=\${$1:-}"
  [ -n "$_value" ] || fail_config "$1 is not set"
  case $_value in
    *[!0-9]* | 0?*) fail_config "$1 is not a whole number: '$_value'" ;;
  esac
}

# check_host WHAT VALUE: a host name or address that no tool reads as an option.
check_host() {
  case $2 in
    '' | -* | *[!]A-Za-z0-9.:_%[-]*) fail_config "target $count: bad $1 '$2'" ;;
  esac
}

check_port() {
  case $1 in
    '' | *[!0-9]* | 0*) fail_config "target $count: bad port '$1'" ;;
  esac
  [ "$1" -le 65535 ] || fail_config "target $count: bad port '$1'"
}

label_of() {
  case "$1" in
    tcp) case "$2" in *:*) echo "[$2]:$3" ;; *) echo "$2:$3" ;; esac ;;
    http | https) case "$2" in *:*) echo "$1://[$2]:$3$4" ;; *) echo "$1://$2:$3$4" ;; esac ;;
    *) echo "$1:$2" ;;
  esac
}

# configure KIND ARGS...: validates one WAIT_TARGETS line and records its label
# as label_N, N counting from 1 in configured order.
configure() {
  count=$(( count + 1 ))
  case "$1" in
    tcp)
      [ $# -eq 3 ] || fail_config "target $count: want 'tcp HOST PORT', got '$*'"
      check_host host "$2"; check_port "$3"
      need_nc=1
      ;;
    http | https)
      [ $# -eq 5 ] || fail_config "target $count: want '$1 HOST PORT PATH EXPECT', got '$*'"
      check_host host "$2"; check_port "$3"
      case $4 in /*) ;; *) fail_config "target $count: path must start with /: '$4'" ;; esac
      case $5 in '' | *[!0-9?,]*) fail_config "target $count: bad expected status '$5'" ;; esac
      ;;
    dns)
      [ $# -eq 2 ] || [ $# -eq 3 ] || fail_config "target $count: want 'dns HOST [SERVER]', got '$*'"
      check_host host "$2"
      [ $# -eq 2 ] || check_host server "$3"
      ;;
    *) fail_config "target $count: unknown check '$1'" ;;
  esac
  _label=$(label_of "$@")
  eval "label_$count=\$_label"
}

# settle STATUS: the outcome of a check run under `timeout`: 0 ready, else 1
# with $err set. The status says what happened (`timeout` cut it: 124 or 143);
# the tool's text ($out) only says why it failed.
settle() {
  if [ "$1" -eq 0 ]; then
    return 0
  elif [ "$1" -eq 124 ] || [ "$1" -eq 143 ]; then
    err="no answer within ${attempt_s}s" err_timed_out=1
  elif [ "$1" -gt 128 ]; then
    err="check killed by signal $(( $1 - 128 ))"
  else
    # nc -vv ends with a "sent 0, rcvd 0" tally.
    err=$(last_line "$(printf '%s\n' "$out" | sed '/^sent [0-9]*, rcvd [0-9]*$/d')")
    [ -n "$err" ] || err="failed with status $1"
  fi
  return 1
}

# The checks. Each runs as a command substitution whose stderr is captured
# whole, so the shell's "Terminated" for a check cut by `timeout` never reaches
# the log.
probe_tcp() {
  if [ -n "$nc_z" ]; then
    # nc 1.10 (busybox defconfig, Alpine): a refused connection prints nothing without -vv.
    out=$( { timeout "$attempt_s" nc -vv -z "$1" "$2"; } </dev/null 2>&1)
  else
    # Debian's busybox nc: no -z or -v; connect, run `true`, close.
    out=$( { timeout "$attempt_s" nc "$1" "$2" -e true; } </dev/null 2>&1)
  fi
  settle $? || just_reason
}

# "can't connect to remote host (1.2.3.4): Connection refused" (Debian's nc,
# wget), "1.2.3.4 (1.2.3.4:80): Connection refused" (nc 1.10): the label already
# names the target, so keep the reason only.
just_reason() {
  [ "$err_timed_out" = 1 ] || err=${err##*: }
  return 1
}

probe_dns() {
  out=$( { timeout "$attempt_s" nslookup "$1" ${2:+"$2"}; } </dev/null 2>&1)
  settle $?
}

# probe_http SCHEME HOST PORT PATH EXPECT
probe_http() {
  _host=$2
  case $_host in *:*) _host="[$_host]" ;; esac
  _url="$1://$_host:$3$4"
  if [ -n "$have_curl" ]; then
    # -k: as the kubelet's HTTPS probes, "is it answering", not "is it trusted". -v for the
    # status line and the connect error; -g: the URL is literal, not a curl glob.
    out=$(curl -q -sS -v -k -g -L -o /dev/null --max-time "$attempt_s" "$_url" </dev/null 2>&1)
  else
    out=$( { timeout "$attempt_s" wget -S -O /dev/null --no-check-certificate "$_url"; } </dev/null 2>&1)
  fi
  _rc=$?
  _status=$(printf '%s\n' "$out" | sed -n 's/^[< ]*HTTP\/[0-9.]* \([0-9][0-9][0-9].*\)/\1/p' | tail -n 1 | tr -d '\r')
  if [ -n "$_status" ]; then
    _code=${_status%"${_status#???}"}
    _ifs=$IFS
    IFS=,
    for _pattern in $5; do
      # shellcheck disable=SC2254 # the pattern is a validated glob such as 2??
      case "$_code" in $_pattern) IFS=$_ifs; return 0 ;; esac
    done
    IFS=$_ifs
    err="HTTP $_status"
    return 1
  fi
  if [ -z "$have_curl" ]; then
    settle "$_rc" || just_reason
    return 1
  fi
  case $_rc in
    28) err="no answer within ${attempt_s}s" err_timed_out=1 ;;
    *)
      # "connect to HOST port P failed: Connection refused" says more than curl's summary.
      err=$(printf '%s\n' "$out" | sed -n 's/^\* connect to .* failed: //p' | tail -n 1)
      [ -n "$err" ] || err=$(printf '%s\n' "$out" | sed -n 's/^curl: ([0-9]*) //p' | sed 's/ after [0-9]* ms//' | tail -n 1)
      [ -n "$err" ] || err="curl failed with status $_rc"
      ;;
  esac
  return 1
}

probe() {
  _kind=$1
  shift
  case $_kind in
    tcp) probe_tcp "$@" ;;
    http | https) probe_http "$_kind" "$@" ;;
    dns) probe_dns "$@" ;;
  esac
}

# Events, one line each on the pipe to `report`: "waiting N ERR", "ready N",
# "failed N ERR", "lost N STATUS".
event_waiting() {
  echo "waiting $index $2"
}

# watch N KIND ARGS...: checks target N until it is ready or the deadline passes.
watch() {
  index=$1
  shift
  eval "_label=\$label_$index"
  RETRY_REPORT=event_waiting
  if retry "$_label" probe "$@"; then
    echo "ready $index"
  else
    echo "failed $index $err"
  fi
}

start_watch() {
  started_n=$(( started_n + 1 ))
  watch "$started_n" "$@" &
  eval "pid_$started_n=\$!"
}

# One checker per target, in parallel; a checker that dies (e.g. OOM-killed) is
# reported as lost. `report` also fails any target with no result at all.
watch_all() {
  started_n=0
  each_line "$WAIT_TARGETS" start_watch
  _n=0
  while [ "$_n" -lt "$started_n" ]; do
    _n=$(( _n + 1 ))
    eval "wait \$pid_$_n"
    _rc=$?
    [ "$_rc" -le 2 ] || echo "lost $_n $_rc"
  done
}

# Turns events into progress lines and, last, the one line that explains the
# outcome. Succeeds only when every configured target reported ready.
report() {
  ready=0
  while IFS= read -r event; do
    _kind=${event%% *}
    _rest=${event#* }
    _n=${_rest%% *}
    _msg=${_rest#"$_n"}
    _msg=${_msg# }
    case $_n in '' | *[!0-9]*) continue ;; esac
    eval "_label=\${label_$_n:-} _state=\${state_$_n:-}"
    [ -n "$_label" ] && [ -z "$_state" ] || continue
    case $_kind in
      ready)
        ready=$(( ready + 1 ))
        eval "state_$_n=ready"
        log "$_label is ready after $(seconds $(( $(now_ms) - started )))"
        ;;
      waiting) log "$_label not ready yet: $_msg" ;;
      failed) eval "state_$_n=failed why_$_n=\$_msg" ;;
      lost)
        if [ "$_msg" -gt 128 ]; then _msg="was killed by signal $(( _msg - 128 ))"; else _msg="exited with status $_msg"; fi
        eval "state_$_n=lost why_$_n=\"its check \$_msg before it reported\""
        ;;
    esac
  done
  elapsed=$(seconds $(( $(now_ms) - started )))
  if [ "$ready" -eq "$count" ]; then
    log "all $count targets ready after $elapsed"
    return 0
  fi
  summary= timed_out=1 _n=0
  while [ "$_n" -lt "$count" ]; do
    _n=$(( _n + 1 ))
    eval "_label=\$label_$_n _state=\${state_$_n:-} _why=\${why_$_n:-}"
    case $_state in
      ready) continue ;;
      failed) ;;
      lost) timed_out= ;;
      *) timed_out= _why="its check ended without a result" ;;
    esac
    summary="$summary, $_label ($_why)"
  done
  if [ -n "$timed_out" ]; then
    explain "timed out after ${WAIT_TIMEOUT}s; not ready: ${summary#, }"
  else
    explain "failed after $elapsed; not ready: ${summary#, }"
  fi
  return 1
}

main() {
  [ -n "${WAIT_TARGETS:-}" ] || fail_config "WAIT_TARGETS is not set"
  for _var in WAIT_TIMEOUT WAIT_MIN_INTERVAL_MS WAIT_MAX_INTERVAL_MS WAIT_ATTEMPT_TIMEOUT; do
    check_number "$_var"
  done
  [ "$WAIT_ATTEMPT_TIMEOUT" -ge 1 ] || fail_config "WAIT_ATTEMPT_TIMEOUT must be at least 1"
  count=0 need_nc=
  each_line "$WAIT_TARGETS" configure
  [ "$count" -gt 0 ] || fail_config "WAIT_TARGETS has no targets"

  # The image's tools, detected once: curl for HTTP(S); which netcat.
  have_curl= nc_z=
  command -v curl >/dev/null 2>&1 && have_curl=1
  if [ -n "$need_nc" ]; then
    case $(nc --help 2>&1) in *-z*) nc_z=1 ;; esac
  fi

  started=$(now_ms)
  DEADLINE_MS=$(( started + WAIT_TIMEOUT * 1000 ))
  RETRY_MIN_MS=$WAIT_MIN_INTERVAL_MS
  RETRY_MAX_MS=$WAIT_MAX_INTERVAL_MS
  ATTEMPT_S=$WAIT_ATTEMPT_TIMEOUT
  watch_all | report
}

run_main main
