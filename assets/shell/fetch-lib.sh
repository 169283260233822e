# Retries, deadline and atomic installation for the fetch scripts.
# The overall deadline is FETCH_TIMEOUT seconds from the start.

FETCH_TIMEOUT=${FETCH_TIMEOUT:-120}
deadline=$(( $(now_s) + FETCH_TIMEOUT ))

# Seconds left before the deadline (at least 1, for bounding one attempt).
seconds_left() {
  left=$(( deadline - $(now_s) ))
  [ "$left" -lt 1 ] && left=1
  echo "$left"
}

# Seconds one attempt may take: FETCH_ATTEMPT_TIMEOUT, but not past the deadline.
attempt_seconds() {
  attempt=${FETCH_ATTEMPT_TIMEOUT:-60}
  left=$(seconds_left)
  [ "$attempt" -gt "$left" ] && attempt=$left
  echo "$attempt"
}

# retry LABEL COMMAND...: runs COMMAND until it returns 0. COMMAND returns 1 for
# a transient failure (retried with backoff 1s, 2s, 4s ... 10s until the
# deadline) or 2 for a permanent one (no retry); it describes the failure in $err.
retry() {
  label=$1; shift
  delay=1
  while :; do
    err=
    "$@"
    rc=$?
    [ "$rc" -eq 0 ] && return 0
    [ "$rc" -eq 2 ] && return 2
    left=$(( deadline - $(now_s) ))
    if [ "$left" -le 0 ]; then
      err="$err (gave up after ${FETCH_TIMEOUT}s)"
      return 1
    fi
    [ "$delay" -gt "$left" ] && delay=$left
    log "$label: $err; retrying in ${delay}s"
    sleep "$delay"
    delay=$(( delay * 2 ))
    [ "$delay" -gt 10 ] && delay=10
  done
}

# install_file TMP DEST MODE: sets the mode, then renames into place, so readers
# see either the old file or the whole new one, never a partial file.
install_file() {
  chmod "$3" "$1" || return 1
  mv -f "$1" "$2"
}

# replace_dir NEW DEST: puts directory NEW at DEST, removing what was there.
replace_dir() {
  rm -rf "$2.old"
  if [ -e "$2" ]; then mv "$2" "$2.old" || return 1; fi
  mv "$1" "$2" || return 1
  rm -rf "$2.old"
}

sha256_of() {
  sha256sum "$1" | cut -d ' ' -f 1
}
