#!/bin/sh
# Stand-in for the postgres:15 image's entrypoint (busybox sh, Debian's PostgreSQL 15), for the
# e2e tier. Runs as uid 999 (postgres); as root it drops to it.
#
# On the first start ($PGDATA has no PG_VERSION) it runs initdb --auth=trust, listens on all
# addresses, trusts every host (host all all 0.0.0.0/0 and ::/0), turns SSL on with a self-signed
# certificate (clients can use sslmode=require; POSTGRES_SSL=off turns it off), creates
# POSTGRES_DB (default POSTGRES_USER, default postgres) owned by POSTGRES_USER, sets
# POSTGRES_PASSWORD if given, and runs /docker-entrypoint-initdb.d/*.sql and *.sh. Then it execs
# postgres in the foreground.
#
# PGDATA (default /var/lib/postgresql/data) may be an emptyDir: a directory this uid cannot chmod
# to 0700 (PostgreSQL requires it) is replaced by its subdirectory pgdata.
set -eu

say() { echo "postgres-entrypoint: $*"; }

if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi
shift

PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"
  chown 999:999 "$PGDATA"
  chmod 700 "$PGDATA"
  exec start-stop-daemon -S -c postgres:postgres -x "$0" -- postgres "$@"
fi

mkdir -p "$PGDATA" 2>/dev/null || true
if ! chmod 700 "$PGDATA" 2>/dev/null; then
  say "uid $(id -u) cannot own $PGDATA; using $PGDATA/pgdata"
  PGDATA=$PGDATA/pgdata
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
fi
export PGDATA

# The Unix socket's directory: the image's, else /tmp, else none (TCP only).
sockets=
for dir in /var/run/postgresql /tmp; do
  if [ -d "$dir" ] && [ -w "$dir" ]; then sockets=$dir; break; fi
done

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  say "initializing $PGDATA (superuser $user, database $db)"
  # shellcheck disable=SC2086
  initdb --username="$user" --auth=trust --no-locale --encoding=UTF8 ${POSTGRES_INITDB_ARGS:-} -D "$PGDATA" >/dev/null
  {
    echo "listen_addresses = '*'"
    echo "unix_socket_directories = '$sockets'"
  } >>"$PGDATA/postgresql.conf"
  {
    echo "host all all 0.0.0.0/0 trust"
    echo "host all all ::/0 trust"
  } >>"$PGDATA/pg_hba.conf"
  if [ "${POSTGRES_SSL:-on}" != off ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=${HOSTNAME:-postgres}" -keyout "$PGDATA/server.key" -out "$PGDATA/server.crt" 2>/dev/null
    chmod 600 "$PGDATA/server.key"
    echo "ssl = on" >>"$PGDATA/postgresql.conf"
  fi

  # A private server for the setup: no TCP, the socket in the data directory.
  pg_ctl -D "$PGDATA" -w -s -o "-c listen_addresses='' -c unix_socket_directories='$PGDATA'" start
  run_psql() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGDATA" -U "$user" "$@"; }
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\";" | run_psql -d postgres
  fi
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    printf "ALTER USER \"%s\" PASSWORD '%s';\n" "$user" "$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")" | run_psql -d postgres
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh) say "running $f"; . "$f" ;;
      *.sql) say "running $f"; run_psql -d "$db" -f "$f" ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -w -s -m fast stop
  say "initialized"
fi

exec postgres -c unix_socket_directories="$sockets" "$@"
