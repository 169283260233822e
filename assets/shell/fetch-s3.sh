# fetch-s3: copies one S3 object, or every object under a prefix, into the
# volume with the AWS CLI, then renames it into place.
#   FETCH_DEST      directory the shared volume is mounted at
#   S3_URI          s3://bucket/key, or s3://bucket/prefix/ (ends in "/": a prefix)
#   S3_PATH         file (object) or directory (prefix) of the volume to fill
#   S3_MODE         file mode of the object (objects under a prefix keep 0644)
#   AWS_REGION, AWS_ENDPOINT_URL  optional; credentials come from AWS_ACCESS_KEY_ID /
#   AWS_SECRET_ACCESS_KEY (secretKeyRef) or the pod's service account (IRSA, Pod Identity)
STEP=config-fetch

# s3_copy: one attempt into $scratch/data, from nothing (sync without --delete
# would keep files of objects deleted since); 0 ok, 1 transient, 2 permanent.
s3_copy() {
  rm -rf "$scratch/data"
  case "$S3_URI" in
    */) out=$(timeout "$attempt_s" aws s3 sync --only-show-errors --no-progress "$S3_URI" "$scratch/data" 2>&1) ;;
    *) out=$(timeout "$attempt_s" aws s3 cp --only-show-errors --no-progress "$S3_URI" "$scratch/data" 2>&1) ;;
  esac
  _rc=$?
  if [ "$_rc" -eq 0 ]; then
    case "$S3_URI" in
      */)
        # sync succeeds on a prefix with no objects (a typo, or the wrong bucket).
        if [ ! -d "$scratch/data" ] || [ -z "$(find "$scratch/data" -type f | head -n 1)" ]; then
          _bucket=${S3_URI#s3://}
          err="no objects under the prefix \"${_bucket#*/}\" of bucket ${_bucket%%/*}"
          return 2
        fi ;;
    esac
    return 0
  fi
  tool_failed "aws s3"
  case "$out" in
    *"(404)"*|*NoSuchKey*|*NoSuchBucket*|*"does not exist"*) return 2 ;;
    *AccessDenied*|*"(403)"*|*InvalidAccessKeyId*|*SignatureDoesNotMatch*) return 2 ;;
  esac
  return 1
}

main() {
  dest="$FETCH_DEST/$S3_PATH"
  new_scratch "$dest" || fail "cannot write to the directory of $S3_PATH in $FETCH_DEST"
  # The AWS CLI writes a cache under HOME; the root filesystem is read-only.
  export HOME="$scratch/home" AWS_PAGER=""
  mkdir "$HOME" || abort "cannot write to $FETCH_DEST"
  fetch_retry "failed to fetch $S3_URI" "$S3_URI" s3_copy
  case "$S3_URI" in
    */) replace_dir "$scratch/data" "$dest" || abort "cannot install $S3_PATH${install_err:+: $install_err}" ;;
    *) install_file "$scratch/data" "$dest" "$S3_MODE" || abort "cannot install $S3_PATH${install_err:+: $install_err}" ;;
  esac
  rm -rf "$scratch"
  log "fetched $S3_URI into $S3_PATH"
}

run_main main
