# Debian packages for the test tiers, shared by test/provision.sh (npm test), test/e2e/run.sh and
# test/e2e/images/build.sh (npm run test:e2e) and test/e2e/build-kubernetes.sh. Sourced by bash;
# the caller sets `set -euo pipefail`. Messages start with "$apt_label: ".

apt_label=${apt_label:-test}

# install_missing ENTRY...: each ENTRY is `command-or-path:package` (a path may be a glob). Installs,
# as root with apt-get, the packages whose command or path is missing; otherwise, or when that
# fails, stops with one message naming them and the command that installs them.
install_missing() {
  local entry what package missing=() log
  for entry in "$@"; do
    what=${entry%%:*} package=${entry#*:}
    case "$what" in
      /*) compgen -G "$what" >/dev/null && continue ;;
      *) command -v "$what" >/dev/null 2>&1 && continue ;;
    esac
    [[ " ${missing[*]-} " == *" $package "* ]] || missing+=("$package")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "$apt_label: missing ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "$apt_label: installing ${missing[*]}"
  log=$(mktemp)
  # An unreachable extra source makes `apt-get update` fail while the Debian archive works; the
  # install says whether what is needed was found.
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    echo "$apt_label: could not install ${missing[*]} ($(tail -n 1 "$log")); install with: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  rm -f "$log"
}

# apt_source PACKAGE DIR: unpacks Debian's source package PACKAGE into DIR (its directory is the one
# `find DIR -maxdepth 1 -type d -name 'PACKAGE-*'` finds), through a private source list, so the
# machine's apt configuration is left as it is.
apt_source() {
  local package=$1 dir=$2 mirror suite
  mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  [ -n "$mirror" ] || mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  mkdir -p "$dir/lists/partial"
  echo "deb-src ${mirror:-http://deb.debian.org/debian} $suite main" >"$dir/sources.list"
  local apt_opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$dir/lists")
  if ! (cd "$dir" && apt-get "${apt_opts[@]}" update -qq && apt-get "${apt_opts[@]}" source -qq "$package") >"$dir/source.log" 2>&1; then
    echo "$apt_label: apt-get source $package failed: $(tail -n 1 "$dir/source.log")" >&2
    exit 1
  fi
}
