# Deadline, retry settings, scratch space and atomic installation for the
# fetch scripts. The overall deadline is FETCH_TIMEOUT seconds from the start;
# lib.sh's retry backs off 1s, 2s, 4s ... 10s between attempts of at most
# FETCH_ATTEMPT_TIMEOUT seconds.

FETCH_TIMEOUT=${FETCH_TIMEOUT:-120}
DEADLINE_MS=$(( $(now_ms) + FETCH_TIMEOUT * 1000 ))
ATTEMPT_S=${FETCH_ATTEMPT_TIMEOUT:-60}
RETRY_MIN_MS=1000 RETRY_FACTOR_PCT=200 RETRY_MAX_MS=10000
# A run of this step ends within FETCH_TIMEOUT (plus a last attempt's second),
# so a scratch directory older than this many minutes was left by a crashed or
# killed run; a younger one may belong to a replica's run sharing the volume.
STALE_MIN=$(( (FETCH_TIMEOUT + 59) / 60 + 1 ))

# new_scratch DEST: creates DEST's parent and $scratch, a directory beside DEST
# unique to this run (".NAME.fetch.RUN_ID") for whatever the run writes before
# renaming it into place; first removes the stale ones crashed runs left for DEST.
new_scratch() {
  _parent=$(dirname "$1") _base=$(basename "$1")
  mkdir -p "$_parent" || return 1
  find "$_parent" -mindepth 1 -maxdepth 1 -name ".$_base.fetch.*" -mmin "+$STALE_MIN" -exec rm -rf {} + 2>/dev/null
  scratch="$_parent/.$_base.fetch.$RUN_ID"
  mkdir "$scratch"
}

# abort MESSAGE: removes this run's scratch directory and fails.
abort() {
  [ -n "${scratch:-}" ] && rm -rf "$scratch" "$scratch.old"
  fail "$*"
}

# fetch_retry WHAT LABEL FUNCTION ARGS...: lib.sh's retry; when it fails, the
# step fails with "WHAT: error", saying when it gave up on a transient one.
fetch_retry() {
  _what=$1; shift
  retry "$@"
  case $? in
    1) abort "$_what: $err (gave up after ${FETCH_TIMEOUT}s)" ;;
    2) abort "$_what: $err" ;;
  esac
}

# tool_failed NAME: after a tool run as `out=$(timeout "$attempt_s" …)` with status
# $_rc failed, sets $err to its last line (else what happened) and returns 1:
# transient, for retry. 124 (coreutils) or 143 (busybox, which kills with SIGTERM)
# means `timeout` cut it.
tool_failed() {
  err=$(last_line "$out")
  if [ "$_rc" -eq 124 ] || [ "$_rc" -eq 143 ]; then
    err_timed_out=1
    [ -n "$err" ] || err="$1 timed out after ${attempt_s}s"
  fi
  [ -n "$err" ] || err="$1 failed with status $_rc"
  return 1
}

# replace_dir NEW DEST: puts directory NEW at DEST, removing what was there. The
# old one is first renamed within its parent (moving a directory elsewhere needs
# write permission on it, which a directory of another uid does not give), to a
# name the stale-scratch cleanup knows. A replica's run may install DEST at the
# same time: `mv -T` then fails rather than moving NEW inside it, and we retry.
replace_dir() {
  _tries=0
  while [ "$_tries" -lt 5 ]; do
    _tries=$(( _tries + 1 ))
    rm -rf "$scratch.old"
    if [ -e "$2" ] || [ -L "$2" ]; then mv -T "$2" "$scratch.old" 2>/dev/null; fi
    if mv -T "$1" "$2" 2>/dev/null; then
      rm -rf "$scratch.old"
      return 0
    fi
  done
  return 1
}

sha256_of() {
  sha256sum "$1" | cut -d ' ' -f 1
}
