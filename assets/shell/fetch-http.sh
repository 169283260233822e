# fetch-http: download files over HTTP(S) into a volume with curl, verifying an
# optional sha256 before an atomic rename.
#   FETCH_DEST          directory the shared volume is mounted at
#   FETCH_FILES         one file per line: "PATH MODE SHA256|- URL"
#   FETCH_AUTH_HEADER   optional header name; its value comes from FETCH_AUTH_VALUE
#   FETCH_AUTH_VALUE    secret (secretKeyRef), sent via stdin so it never shows in argv
STEP=config-fetch

# download URL TMP: one attempt; 0 ok, 1 transient, 2 permanent.
download() {
  attempt=$(attempt_seconds)
  if [ -n "${FETCH_AUTH_HEADER:-}" ]; then
    out=$(printf '%s: %s\n' "$FETCH_AUTH_HEADER" "${FETCH_AUTH_VALUE:-}" |
      curl -sS -L -H @- -o "$2" -w '\n%{http_code}' --connect-timeout 10 --max-time "$attempt" "$1" 2>&1)
  else
    out=$(curl -sS -L -o "$2" -w '\n%{http_code}' --connect-timeout 10 --max-time "$attempt" "$1" 2>&1 </dev/null)
  fi
  status=$?
  code=$(printf '%s\n' "$out" | tail -n 1)
  if [ "$status" -ne 0 ]; then
    # A transfer error (DNS, connect, timeout, truncated body) even after a 2xx header.
    err=$(printf '%s\n' "$out" | sed -n 's/^curl: ([0-9]*) //p' | tail -n 1)
    [ -n "$err" ] || err="curl exited with status $status"
    return 1
  fi
  case "$code" in
    2??) return 0 ;;
    408|425|429|5??) err="HTTP $code from $1"; return 1 ;;
    *) err="HTTP $code from $1"; return 2 ;;
  esac
}

fetch() {
  path=$1 mode=$2 sha=$3 url=$4
  dest="$FETCH_DEST/$path"
  mkdir -p "$(dirname "$dest")" || fail "cannot create the directory of $path"
  if [ "$sha" != "-" ] && [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$sha" ]; then
    chmod "$mode" "$dest"
    log "$path is already present (sha256 $sha)"
    count=$(( count + 1 ))
    return 0
  fi
  tmp="$dest.tmp.$$"
  if ! retry "$path" download "$url" "$tmp"; then
    rm -f "$tmp"
    fail "failed to fetch $path: $err"
  fi
  if [ "$sha" != "-" ]; then
    actual=$(sha256_of "$tmp")
    if [ "$actual" != "$sha" ]; then
      rm -f "$tmp"
      fail "checksum mismatch for $path from $url: expected sha256 $sha, got $actual"
    fi
  fi
  install_file "$tmp" "$dest" "$mode" || fail "cannot install $path"
  log "fetched $path ($(wc -c <"$dest") bytes)"
  count=$(( count + 1 ))
}

count=0
each_line "$FETCH_FILES" fetch
log "done: $count file(s) in $FETCH_DEST"
