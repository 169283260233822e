# Helpers shared by the init scripts: logging and reading line-based
# configuration. POSIX sh for busybox (ash). Callers set STEP, the name in log lines.
set -u

log() {
  echo "$STEP: $*"
}

# The last line a failing step prints is what `kubectl describe pod` shows.
fail() {
  log "$*"
  exit 1
}

# Whole seconds since boot, from /proc/uptime (no fork; for deadlines).
now_s() {
  read -r up _ </proc/uptime
  echo "${up%%.*}"
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
