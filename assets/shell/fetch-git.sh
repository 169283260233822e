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

scratch="$FETCH_DEST/.git-fetch.$$"
repo="$scratch/repo"
target="$FETCH_DEST/$GIT_DIRECTORY"
# git needs a HOME; the root filesystem is read-only.
export HOME="$scratch" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0

case "$GIT_REF" in
  [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*) is_commit=1; refspec=$GIT_REF ;;
  *) is_commit=0; refspec="refs/tags/$GIT_REF:refs/tags/$GIT_REF" ;;
esac
[ "${#GIT_REF}" -eq 40 ] || is_commit=0

git_fetch() {
  out=$(timeout "$(attempt_seconds)" git \
    -c credential.helper='!f() { echo "username=${GIT_USERNAME:-}"; echo "password=${GIT_PASSWORD:-}"; }; f' \
    -C "$repo" fetch --quiet --depth 1 --no-tags -- "$GIT_REPOSITORY" "$refspec" 2>&1) && return 0
  case "$out" in
    *"couldn't find remote ref"*|*"not our ref"*|*"no such remote ref"*)
      err="ref $GIT_REF not found in $GIT_REPOSITORY"
      [ "$is_commit" = 0 ] && err="tag $GIT_REF not found in $GIT_REPOSITORY (refs must be tags or full commit ids)"
      return 2 ;;
    *"Authentication failed"*|*"could not read Username"*)
      err="authentication failed for $GIT_REPOSITORY"; return 2 ;;
  esac
  err=$(printf '%s\n' "$out" | sed -n 's/^fatal: //; /[^ ]/h; ${x;p;}')
  [ -n "$err" ] || err="git fetch timed out"
  return 1
}

rm -rf "$FETCH_DEST"/.git-fetch.* "$FETCH_DEST"/.git-new.*
mkdir -p "$scratch" || fail "cannot write to $FETCH_DEST"
git init --quiet "$repo" || fail "git init failed"
retry "$GIT_REPOSITORY@$GIT_REF" git_fetch || { rm -rf "$scratch"; fail "git fetch failed: $err"; }
git -C "$repo" -c advice.detachedHead=false checkout --quiet FETCH_HEAD || fail "git checkout of $GIT_REF failed"
revision=$(git -C "$repo" rev-parse HEAD)
if [ "$is_commit" = 1 ] && [ "$revision" != "$GIT_REF" ]; then
  fail "fetched $revision, not the pinned commit $GIT_REF"
fi

source_dir="$repo/${GIT_SUBPATH:-.}"
[ -d "$source_dir" ] || { rm -rf "$scratch"; fail "sub-path ${GIT_SUBPATH:-} not found in $GIT_REPOSITORY at $GIT_REF"; }
new="$FETCH_DEST/.git-new.$$"
if [ -n "${GIT_SUBPATH:-}" ]; then
  mv "$source_dir" "$new"
else
  rm -rf "$repo/.git"
  mv "$repo" "$new"
fi
replace_dir "$new" "$target" || fail "cannot install $GIT_DIRECTORY"
rm -rf "$scratch"
log "checked out $GIT_REPOSITORY at $GIT_REF ($revision)${GIT_SUBPATH:+, sub-path $GIT_SUBPATH,} into $GIT_DIRECTORY"
