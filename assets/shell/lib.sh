# Helpers shared by the init scripts: logging, SIGTERM handling, clocks, retries
# with backoff, unique temp names. POSIX sh for busybox (ash). Callers set STEP,
# the name in log lines, and end with `run_main FUNCTION`.
set -u

log() {
  echo "$STEP: $*"
}

# explain MESSAGE: logs why the step fails and leaves it as the container's
# termination message, which the pod status shows (`kubectl describe pod`). The
# kubelet prefers the file to the log tail (FallbackToLogsOnError), so the
# message is exactly this line; outside a kubelet there is no file to write.
explain() {
  log "$*"
  [ -w /dev/termination-log ] && printf '%s: %s' "$STEP" "$*" >/dev/termination-log 2>/dev/null
  return 0
}

fail() {
  explain "$*"
  exit 1
}

# Malformed configuration (the construct validates it, so only a hand-edited
# manifest gets here): exit 2, which no other failure uses.
fail_config() {
  explain "invalid configuration: $*"
  exit 2
}

# SIGTERM. The script is PID 1 of its container: sh ignores SIGTERM there unless
# a handler is set, and runs a handler only after the foreground command (or
# pipeline) ends, which may be a long check. So the work runs in the background
# and PID 1 only waits; a trapped signal interrupts `wait` at once. On SIGTERM
# the whole process group (the container's processes; runc makes PID 1 a
# session leader) is stopped, so nothing is left behind.
on_term() {
  trap '' TERM INT
  kill -TERM 0 2>/dev/null
  log "stopped by SIGTERM"
  exit 143
}

# run_main FUNCTION: runs FUNCTION in the background, exits with its status.
run_main() {
  trap on_term TERM INT
  "$1" &
  wait $!
  exit $?
}

# Milliseconds since boot, from /proc/uptime (no fork; centisecond resolution).
now_ms() {
  read -r _up _ </proc/uptime
  _cs="${_up%.*}${_up#*.}"
  _cs="${_cs#"${_cs%%[!0]*}"}"
  echo $(( ${_cs:-0} * 10 ))
}

# sleep_ms MS: fractional sleep.
sleep_ms() {
  sleep "$(( $1 / 1000 )).$(printf '%03d' $(( $1 % 1000 )))"
}

# seconds MS: "1.2s", for log lines.
seconds() {
  echo "$(( $1 / 1000 )).$(( $1 % 1000 / 100 ))s"
}

# last_line TEXT: the last non-empty line of a tool's output, without the tool's
# "name: " prefix (busybox applets, curl, git's "fatal: ") or nslookup's "** ".
last_line() {
  printf '%s\n' "$1" | sed -n 's/^[a-z]*: //; s/^([0-9]*) //; s/^\*\* //; /[^ ]/h; ${x;p;}' | tr -d '\r'
}

# A name unique to this run, for temp files in shared volumes: `$$` is 1 in
# every container, so it is the same in every replica sharing a volume.
read -r RUN_ID </proc/sys/kernel/random/uuid

# retry LABEL FUNCTION ARGS...: calls FUNCTION ARGS until it returns 0, backing
# off from RETRY_MIN_MS by x1.5 (RETRY_FACTOR_PCT) to RETRY_MAX_MS between
# attempts, until DEADLINE_MS (a now_ms value). FUNCTION returns 1 for a
# transient failure and 2 for a permanent one (no retry), describing it in $err;
# it sets err_timed_out=1 when the attempt only ran out of time. It may read
# $attempt_s, the whole seconds the attempt may take (ATTEMPT_S, but not past the
# deadline). Each change of $err is passed to the function named by RETRY_REPORT
# (default retry_log: "LABEL: ERR; retrying") as LABEL ERR. Returns 0, 2 (permanent), or 1 (deadline passed) with $err set
# to the most telling error: a refusal seen all along rather than the last,
# deadline-shortened attempt that only timed out.
retry() {
  _label=$1; shift
  _delay=$RETRY_MIN_MS
  _logged=
  telling=
  while :; do
    _left=$(( DEADLINE_MS - $(now_ms) ))
    attempt_s=$(( (_left + 999) / 1000 ))
    [ "$attempt_s" -gt "$ATTEMPT_S" ] && attempt_s=$ATTEMPT_S
    [ "$attempt_s" -lt 1 ] && attempt_s=1
    err= err_timed_out=0
    "$@"
    _rc=$?
    [ "$_rc" -eq 0 ] && return 0
    [ -n "$err" ] || err="failed with status $_rc"
    if [ "$_rc" -eq 2 ]; then telling=$err; return 2; fi
    if [ "$err_timed_out" = 0 ] || [ -z "$telling" ]; then telling=$err; fi
    _left=$(( DEADLINE_MS - $(now_ms) ))
    if [ "$_left" -le 0 ]; then
      err=$telling
      return 1
    fi
    [ "$_delay" -gt "$_left" ] && _delay=$_left
    if [ "$err" != "$_logged" ]; then
      "${RETRY_REPORT:-retry_log}" "$_label" "$err"
      _logged=$err
    fi
    sleep_ms "$_delay"
    _delay=$(( _delay * ${RETRY_FACTOR_PCT:-150} / 100 ))
    [ "$_delay" -gt "$RETRY_MAX_MS" ] && _delay=$RETRY_MAX_MS
  done
}

retry_log() {
  log "$1: $2; retrying"
}

# install_file TMP DEST MODE: sets the mode, then renames into place, so readers
# see either the old file or the whole new one, never a partial file. On failure
# install_err says why, when it knows.
install_file() {
  install_err=
  # mv onto a directory moves the file into it, and would report success.
  if [ -d "$2" ]; then install_err="$2 is a directory"; return 1; fi
  chmod "$3" "$1" || return 1
  mv -f "$1" "$2"
}

# each_line TEXT FUNCTION: calls FUNCTION once per line of TEXT, with the line's
# space-separated fields as arguments. Globbing is off, so fields are literal.
each_line() {
  _each_text=$1 _each_fn=$2 _each_ifs=$IFS
  set -f
  IFS='
'
  for _each_line in $_each_text; do
    IFS=' '
    # shellcheck disable=SC2086 # split on single spaces on purpose
    set -- $_each_line
    IFS=$_each_ifs
    "$_each_fn" "$@"
    IFS='
'
  done
  IFS=$_each_ifs
}
