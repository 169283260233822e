# fetch-git: shallow-fetches a Git repository at a pinned ref (a tag, or a full
# commit id) and puts it, or one sub-path of it, at a directory of the volume.
#   FETCH_DEST        directory the shared volume is mounted at
#   GIT_REPOSITORY    repository URL or path
#   GIT_REF           tag name, or a 40-hex commit id
#   GIT_SUBPATH       optional directory inside the repository
#   GIT_DIRECTORY     directory of the volume to fill
#   GIT_USERNAME, GIT_PASSWORD  optional HTTPS credentials (secretKeyRef), read by
#                     a credential helper at run time, never on a command line
STEP=config-fetch

# git_fetch: one attempt; 0 ok, 1 transient, 2 permanent.
git_fetch() {
  out=$(timeout "$attempt_s" git \
    -c credential.helper='!f() { echo "username=${GIT_USERNAME:-}"; echo "password=${GIT_PASSWORD:-}"; }; f' \
    -C "$repo" fetch --quiet --depth 1 --no-tags -- "$GIT_REPOSITORY" "$refspec" 2>&1)
  _rc=$?
  [ "$_rc" -eq 0 ] && return 0
  case "$out" in
    *"couldn't find remote ref"*|*"not our ref"*|*"no such remote ref"*)
      err="ref $GIT_REF not found in $GIT_REPOSITORY"
      [ "$is_commit" = 0 ] && err="tag $GIT_REF not found in $GIT_REPOSITORY (refs must be tags or full commit ids)"
      return 2 ;;
    *"Authentication failed"*|*"could not read Username"*)
      err="authentication failed for $GIT_REPOSITORY"; return 2 ;;
    # A local repository of another owner: git trusts only the owner's (safe.directory).
    *"dubious ownership"*)
      err="$GIT_REPOSITORY is owned by another user than the step's uid $(id -u), and git refuses it (safe.directory)"; return 2 ;;
    # HTTP 404 ("repository '…' not found"), or a path that holds no repository.
    *"fatal: repository '"*"' not found"*|*"does not appear to be a git repository"*)
      err="repository $GIT_REPOSITORY not found"; return 2 ;;
  esac
  tool_failed "git fetch"
}

main() {
  case "$GIT_REF" in
    [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*) is_commit=1; refspec=$GIT_REF ;;
    *) is_commit=0; refspec="refs/tags/$GIT_REF:refs/tags/$GIT_REF" ;;
  esac
  [ "${#GIT_REF}" -eq 40 ] || is_commit=0

  target="$FETCH_DEST/$GIT_DIRECTORY"
  new_scratch "$target" || fail "cannot write to the directory of $GIT_DIRECTORY in $FETCH_DEST"
  repo="$scratch/repo"
  # git needs a HOME; the root filesystem is read-only.
  export HOME="$scratch" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
  git init --quiet "$repo" || abort "git init failed"
  fetch_retry "git fetch failed" "$GIT_REPOSITORY@$GIT_REF" git_fetch
  git -C "$repo" -c advice.detachedHead=false checkout --quiet FETCH_HEAD || abort "git checkout of $GIT_REF failed"
  revision=$(git -C "$repo" rev-parse HEAD)
  if [ "$is_commit" = 1 ] && [ "$revision" != "$GIT_REF" ]; then
    abort "fetched $revision, not the pinned commit $GIT_REF"
  fi

  source_dir="$repo/${GIT_SUBPATH:-.}"
  [ -d "$source_dir" ] || abort "sub-path ${GIT_SUBPATH:-} not found in $GIT_REPOSITORY at $GIT_REF"
  if [ -z "${GIT_SUBPATH:-}" ]; then
    rm -rf "$repo/.git"
    source_dir=$repo
  fi
  replace_dir "$source_dir" "$target" || abort "cannot install $GIT_DIRECTORY"
  rm -rf "$scratch"
  log "checked out $GIT_REPOSITORY at $GIT_REF ($revision)${GIT_SUBPATH:+, sub-path $GIT_SUBPATH,} into $GIT_DIRECTORY"
}

run_main main
