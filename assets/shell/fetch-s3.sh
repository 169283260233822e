# fetch-s3: copies one S3 object, or every object under a prefix, into the
# volume with the AWS CLI, then renames it into place.
#   FETCH_DEST      directory the shared volume is mounted at
#   S3_URI          s3://bucket/key, or s3://bucket/prefix/ (ends in "/": a prefix)
#   S3_PATH         file (object) or directory (prefix) of the volume to fill
#   S3_MODE         file mode of the object (objects under a prefix keep 0644)
#   AWS_REGION, AWS_ENDPOINT_URL  optional; credentials come from AWS_ACCESS_KEY_ID /
#   AWS_SECRET_ACCESS_KEY (secretKeyRef) or the pod's service account (IRSA, Pod Identity)
STEP=config-fetch

dest="$FETCH_DEST/$S3_PATH"
tmp="$dest.tmp.$$"
# The AWS CLI writes a cache under HOME; the root filesystem is read-only.
export HOME="$FETCH_DEST/.aws-home.$$" AWS_PAGER=""

s3_copy() {
  case "$S3_URI" in
    */) out=$(timeout "$(attempt_seconds)" aws s3 sync --only-show-errors --no-progress "$S3_URI" "$tmp" 2>&1) ;;
    *) out=$(timeout "$(attempt_seconds)" aws s3 cp --only-show-errors --no-progress "$S3_URI" "$tmp" 2>&1) ;;
  esac && return 0
  err=$(printf '%s\n' "$out" | sed -n '/[^ ]/h; ${x;p;}')
  case "$out" in
    *"(404)"*|*NoSuchKey*|*NoSuchBucket*|*"does not exist"*) return 2 ;;
    *AccessDenied*|*"(403)"*|*InvalidAccessKeyId*|*SignatureDoesNotMatch*) return 2 ;;
  esac
  [ -n "$err" ] || err="aws s3 timed out"
  return 1
}

mkdir -p "$(dirname "$dest")" "$HOME" || fail "cannot write to $FETCH_DEST"
retry "$S3_URI" s3_copy || { rm -rf "$tmp" "$HOME"; fail "failed to fetch $S3_URI: $err"; }
rm -rf "$HOME"
case "$S3_URI" in
  */)
    [ -d "$tmp" ] || mkdir -p "$tmp"
    replace_dir "$tmp" "$dest" || fail "cannot install $S3_PATH" ;;
  *)
    install_file "$tmp" "$dest" "$S3_MODE" || fail "cannot install $S3_PATH" ;;
esac
log "fetched $S3_URI into $S3_PATH"
