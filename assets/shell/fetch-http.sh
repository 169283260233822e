# fetch-http: download files over HTTP(S) into a volume with curl, verifying an
# optional sha256 before an atomic rename.
#   FETCH_DEST          directory the shared volume is mounted at
#   FETCH_FILES         one file per line: "PATH MODE SHA256|- URL"
#   FETCH_AUTH_HEADER   optional header name; its value comes from FETCH_AUTH_VALUE
#   FETCH_AUTH_VALUE    secret (secretKeyRef), sent via stdin so it never shows in argv
STEP=config-fetch

# origin URL: "scheme://host:port" of URL, lower case, with the default port.
origin() {
  _scheme=${1%%://*} _host=${1#*://}
  _host=${_host%%[/?#]*}
  _host=${_host##*@}
  case "$_host" in
    *\]) _port= ;;
    *:*) _port=${_host##*:} _host=${_host%:*} ;;
    *) _port= ;;
  esac
  if [ -z "$_port" ]; then
    if [ "$_scheme" = https ]; then _port=443; else _port=80; fi
  fi
  printf '%s://%s:%s\n' "$_scheme" "$_host" "$_port" | tr 'A-Z' 'a-z'
}

# download URL: one attempt into $scratch/body; 0 ok, 1 transient, 2 permanent.
# Redirects are followed here, not by curl -L, which sends a custom auth header
# to any host and follows https to http: the header goes only to the origin of
# the URL as given, and a redirect from https to anything else is refused.
download() {
  _url=$1 _hops=0 _started=$(now_ms)
  while :; do
    _max=$(( attempt_s - ($(now_ms) - _started) / 1000 ))
    [ "$_max" -lt 1 ] && _max=1
    if [ -n "${FETCH_AUTH_HEADER:-}" ] && [ "$(origin "$_url")" = "$named_origin" ]; then
      out=$(printf '%s: %s\n' "$FETCH_AUTH_HEADER" "${FETCH_AUTH_VALUE:-}" |
        curl -sS --proto =http,https -H @- -o "$scratch/body" -w '%{http_code} %{redirect_url}\n' \
          --connect-timeout 10 --max-time "$_max" -- "$_url" 2>&1 >"$scratch/status")
    else
      out=$(curl -sS --proto =http,https -o "$scratch/body" -w '%{http_code} %{redirect_url}\n' \
        --connect-timeout 10 --max-time "$_max" -- "$_url" 2>&1 >"$scratch/status" </dev/null)
    fi
    _rc=$?
    if [ "$_rc" -ne 0 ]; then
      # A transfer error (DNS, connect, timeout, truncated body) even after a 2xx header.
      err=$(last_line "$out")
      [ -n "$err" ] || err="curl exited with status $_rc"
      [ "$_rc" -eq 28 ] && err_timed_out=1
      return 1
    fi
    read -r code next <"$scratch/status"
    case "$code" in
      2??) return 0 ;;
      301|302|303|307|308) ;;
      408|425|429|5??) err="HTTP $code from $_url"; return 1 ;;
      *) err="HTTP $code from $_url"; return 2 ;;
    esac
    case "$next" in
      "") err="HTTP $code from $_url without a Location"; return 2 ;;
      https://*) ;;
      http://*)
        case "$_url" in
          https://*) err="refused the redirect from $_url to $next: it leaves HTTPS"; return 2 ;;
        esac ;;
      *) err="refused the redirect from $_url to $next: not HTTP(S)"; return 2 ;;
    esac
    _hops=$(( _hops + 1 ))
    [ "$_hops" -gt 10 ] && { err="more than 10 redirects from $1"; return 2; }
    _url=$next
  done
}

fetch() {
  path=$1 mode=$2 sha=$3 url=$4
  dest="$FETCH_DEST/$path"
  if [ "$sha" != "-" ] && [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$sha" ]; then
    chmod "$mode" "$dest"
    log "$path is already present (sha256 $sha)"
    count=$(( count + 1 ))
    return 0
  fi
  new_scratch "$dest" || fail "cannot create the directory of $path"
  named_origin=$(origin "$url")
  fetch_retry "failed to fetch $path" "$path" download "$url"
  if [ "$sha" != "-" ]; then
    actual=$(sha256_of "$scratch/body")
    if [ "$actual" != "$sha" ]; then
      abort "checksum mismatch for $path from $url: expected sha256 $sha, got $actual"
    fi
  fi
  install_file "$scratch/body" "$dest" "$mode" || abort "cannot install $path${install_err:+: $install_err}"
  rm -rf "$scratch"
  verified=
  [ "$sha" = "-" ] || verified=", sha256 verified"
  log "fetched $path ($(wc -c <"$dest") bytes$verified)"
  count=$(( count + 1 ))
}

main() {
  count=0
  each_line "$FETCH_FILES" fetch
  log "done: $count file(s) in $FETCH_DEST"
}

run_main main
