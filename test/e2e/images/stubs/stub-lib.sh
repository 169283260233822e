# Shared by the migration-tool stubs (flyway, liquibase, migrate): busybox sh, sourced.
# Each stub sets STUB (its log prefix) before sourcing this file.
#
# The stubs stand in for JVM/Go tools the e2e images cannot carry. They record how they were
# invoked (one line per argument, the tool's env vars with passwords masked) and apply plain-SQL
# migrations for real with psql, under a PostgreSQL advisory lock (as the real tools serialize
# concurrent runs), recording what they applied in a history table, so a second run applies nothing.

set -f  # no globbing: the stubs split file lists and SQL on newlines

say() { echo "$STUB: $*"; }

# One line per argument.
show_args() {
  _i=0
  for _a in "$@"; do
    _i=$((_i + 1))
    say "arg[$_i]=$_a"
  done
}

# The env vars whose names match the pattern (a grep -E regex), sorted; values of names containing
# PASSWORD or SECRET show only their length.
show_env() {
  for _name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | grep -E "$1" | sort -u); do
    eval "_value=\${$_name-}"
    case $_name in
      *PASSWORD* | *SECRET*) say "env $_name=<${#_value} chars>" ;;
      *) say "env $_name=$_value" ;;
    esac
  done
}

# parse_jdbc URL: jdbc:postgresql://host[:port][,...]/db[?k=v&...] -> DB_HOST DB_PORT DB_NAME DB_PARAMS
# (only the first host). Returns 1 if it is not a PostgreSQL JDBC URL.
parse_jdbc() {
  case $1 in jdbc:postgresql://*) ;; *) return 1 ;; esac
  parse_pg_url "${1#jdbc:postgresql://}"
}

# parse_pg_url REST: [user[:password]@]host[:port][,...]/db[?query] (the part after the scheme's //)
# -> DB_HOST DB_PORT DB_NAME DB_PARAMS DB_URL_USER DB_URL_PASSWORD
parse_pg_url() {
  _rest=$1
  DB_PARAMS=
  case $_rest in *\?*) DB_PARAMS=${_rest#*\?}; _rest=${_rest%%\?*} ;; esac
  DB_NAME=
  case $_rest in */*) DB_NAME=${_rest#*/}; _rest=${_rest%%/*} ;; esac
  DB_URL_USER= DB_URL_PASSWORD=
  case $_rest in
    *@*)
      _cred=${_rest%@*}; _rest=${_rest##*@}
      DB_URL_USER=${_cred%%:*}
      case $_cred in *:*) DB_URL_PASSWORD=${_cred#*:} ;; esac
      ;;
  esac
  _rest=${_rest%%,*}
  DB_PORT=5432
  case $_rest in
    \[*\]:*) DB_HOST=${_rest%%]*}; DB_HOST=${DB_HOST#[}; DB_PORT=${_rest##*]:} ;;
    \[*\]) DB_HOST=${_rest#[}; DB_HOST=${DB_HOST%]} ;;
    *:*) DB_HOST=${_rest%%:*}; DB_PORT=${_rest#*:} ;;
    *) DB_HOST=$_rest ;;
  esac
  [ -n "$DB_HOST" ] || DB_HOST=localhost
  [ -n "$DB_NAME" ] || return 1
  return 0
}

# url_param NAME: the value of NAME in DB_PARAMS, or nothing.
url_param() {
  printf '%s\n' "$DB_PARAMS" | tr '&' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# run_psql USER PASSWORD SCRIPT: runs the psql SCRIPT against DB_HOST/DB_PORT/DB_NAME, with the
# URL's sslmode. Sets OUT (stdout and stderr) and returns psql's status: 0 done, 1 psql error,
# 2 connection failed, 3 a statement failed (ON_ERROR_STOP).
run_psql() {
  _sslmode=$(url_param sslmode)
  # No client certificate (the JDBC driver the real tools use reads none from $HOME either): libpq
  # fails on a ~/.postgresql it may not read, e.g. HOME=/root when running as another uid.
  OUT=$(printf '%s\n' "$3" | PGPASSWORD=$2 PGSSLMODE=${_sslmode:-${PGSSLMODE:-prefer}} PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10} \
    PGSSLCERT=${PGSSLCERT:-/nonexistent/postgresql.crt} PGSSLKEY=${PGSSLKEY:-/nonexistent/postgresql.key} \
    PGAPPNAME=$STUB psql -X -q -A -t -v ON_ERROR_STOP=1 \
    -h "$DB_HOST" -p "$DB_PORT" -U "$1" -d "$DB_NAME" -f - 2>&1)
}

# The last psql error message of OUT (the text after its last ERROR:, FATAL: or error:), else its
# last line.
psql_error() {
  _msg=$(printf '%s\n' "$OUT" | sed -nE 's/^.*(ERROR|FATAL|error): +//p' | tail -n 1)
  [ -n "$_msg" ] || _msg=$(printf '%s\n' "$OUT" | sed '/^ *$/d' | tail -n 1)
  printf '%s\n' "$_msg"
}

# Prints OUT's lines that are not the stub's own (psql messages, the migrations' output).
show_psql_output() {
  printf '%s\n' "$OUT" | while IFS= read -r _line; do
    case $_line in
      "$STUB: "*) echo "$_line" ;;
      '') ;;
      *) say "psql: $_line" ;;
    esac
  done
}

# sql_quote TEXT: TEXT as an SQL string literal.
sql_quote() {
  printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"
}

# checksum FILE: a short content hash (busybox has no cksum applet everywhere).
checksum() {
  sha256sum "$1" | cut -c 1-16
}

# The advisory-lock key the stubs share with nothing else.
LOCK_KEY=727274001
