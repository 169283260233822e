#!/usr/bin/env bash
# Checks the archives build.sh wrote, for real: a throwaway containerd in private mount, network and
# PID namespaces (its state on tmpfs there), imports every archive, checks the names, and runs the
# images with runc (loopback-only network shared by the containers).
#
#   test/e2e/images/verify.sh <outdir of build.sh>
#
# Needs root, containerd, ctr and runc. Nothing stays behind: the namespaces end with their
# processes. Prints "verify: ok" and exits 0 when every check passed. VERIFY_TRACE=1 traces it.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 <images dir>" >&2; exit 2; }
images=$(cd "$1" && pwd)
[ -f "$images/images.txt" ] || { echo "verify: no $images/images.txt (run build.sh first)" >&2; exit 1; }

# The checks run in the namespaces; their commands get no stdin (ctr run would read it).
inner=$(cat <<'INNER'
set -euo pipefail
mount --make-rprivate /
[ -z "${VERIFY_TRACE:-}" ] || set -x
ip link set lo up
# A tmpfs over /run (only in this mount namespace) holds containerd's state, root and socket, so
# nothing is created on the host's filesystems; the containers' cgroups are under $cg, removed at
# the end.
mount -t tmpfs tmpfs /run
mkdir -p /run/containerd /run/verify
t=/run/verify
cg=cdk8s-init-images-verify
cat >"$t/config.toml" <<EOF
version = 2
root = "$t/root"
state = "/run/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
EOF
containerd --config "$t/config.toml" >"$t/containerd.log" 2>&1 &
containerd_pid=$!
cleanup() {
  local id
  for id in $(ctr -n k8s.io task ls -q 2>/dev/null); do ctr -n k8s.io task kill -s KILL "$id" >/dev/null 2>&1 || true; done
  sleep 0.2
  for id in $(ctr -n k8s.io containers ls -q 2>/dev/null); do
    ctr -n k8s.io task delete -f "$id" >/dev/null 2>&1 || true
    ctr -n k8s.io containers delete "$id" >/dev/null 2>&1 || true
  done
  kill "$containerd_pid" 2>/dev/null; wait "$containerd_pid" 2>/dev/null || true
  find /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
ctr version >/dev/null || { echo "verify: containerd did not start: $(tail -n 3 "$t/containerd.log")"; exit 1; }

# ctr 1.6 run has no --user: a static helper, bind-mounted, sets uid and gid (as runAsUser and
# runAsGroup do) and execs the command. Only for images whose user is root (ctr sets
# no_new_privs, so a setuid helper cannot help the others): those run as their image's user.
cat >"$t/runas.c" <<'EOF'
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc < 4) return 2;
  gid_t gid = (gid_t)atoi(argv[2]);
  if (setgroups(1, &gid) || setgid(gid) || setuid((uid_t)atoi(argv[1]))) { perror("runas"); return 1; }
  execvp(argv[3], argv + 3);
  perror("runas: exec");
  return 127;
}
EOF
gcc -Os -static -o "$t/runas" "$t/runas.c"

failures=0
pass() { echo "verify: ok   $*"; }
fail() { echo "verify: FAIL $*"; failures=$((failures + 1)); }
C() { ctr -n k8s.io "$@"; }
# run NAME REF [ctr run options] -- CMD...: runs to completion, output on stdout; status returned.
n=0
run() {
  local ref=$1; shift
  local opts=() as=()
  while [ "$1" != -- ]; do
    if [ "$1" = --user ]; then
      # HOME as runc sets it for a uid without a passwd entry
      as=(/.runas "${2%:*}" "${2#*:}"); opts+=(--mount "type=bind,src=$t/runas,dst=/.runas,options=rbind:ro" --env HOME=/); shift 2
    else
      opts+=("$1"); shift
    fi
  done
  shift
  n=$((n + 1))
  C run --rm --net-host --cgroup "/$cg/v$n-$BASHPID" "${opts[@]}" "$ref" "v$n-$BASHPID" "${as[@]}" "$@" 2>&1
}
# expect DESCRIPTION PATTERN OUTPUT
expect() {
  if grep -qE -- "$2" <<<"$3"; then pass "$1"; else fail "$1: want /$2/, got: $(tail -n 5 <<<"$3" | tr '\n' '|')"; fi
}

# --- import -----------------------------------------------------------------------------------------
start=$(date +%s%N)
cut -d ' ' -f 2 "$IMAGES/images.txt" | sort -u | while read -r archive; do
  C images import "$IMAGES/$archive" >/dev/null
done
echo "verify: imported in $(( ($(date +%s%N) - start) / 1000000 ))ms"
listed=$(C images ls -q)
while read -r ref archive; do
  if grep -qxF "$ref" <<<"$listed"; then pass "listed $ref"; else fail "$ref not listed after importing $archive"; fi
done <"$IMAGES/images.txt"
extra=$(grep -vxFf <(cut -d ' ' -f 1 "$IMAGES/images.txt") <<<"$listed" || true)
[ -z "$extra" ] || fail "unexpected names: $extra"

# --- each image ---------------------------------------------------------------------------------------
B=docker.io/library/busybox:1.36.1
out=$(run $B -- sh -c 'echo ok; id -u; ls /bin | wc -l' || true); expect "busybox sh" '^ok' "$out"
out=$(run docker.io/curlimages/curl:8.11.1 -- curl --version || true); expect "curl --version" '^curl [0-9]' "$out"
out=$(run docker.io/curlimages/curl:8.11.1 -- id || true); expect "curl image user 100" 'uid=100\(curl_user\)' "$out"
out=$(run docker.io/curlimages/curl:8.11.1 -- sh -c 'test -s /etc/ssl/certs/ca-certificates.crt && echo ca' || true); expect "curl CA bundle" '^ca' "$out"
out=$(run docker.io/alpine/git:v2.45.1 -- git --version || true); expect "git --version" '^git version' "$out"
out=$(run docker.io/alpine/git:v2.45.1 --user 65532:65532 --mount type=tmpfs,src=tmpfs,dst=/w,options=rw:mode=1777 -- sh -c '
  set -e; cd /w; export HOME=/w
  git init -q src && cd src && echo hi >f && git add f
  git -c user.email=a@b -c user.name=a commit -qm one && git tag v1 && cd ..
  git init -q dst && git -C dst fetch --quiet --depth 1 --no-tags -- file:///w/src refs/tags/v1:refs/tags/v1
  git -C dst -c advice.detachedHead=false checkout --quiet v1 && cat dst/f
  git ls-remote https://127.0.0.1:1/x.git 2>&1 | tail -n 1' || true)
expect "git clone over file://" '^hi$' "$out"
expect "git https transport present" 'Failed to connect|Could not connect|Connection refused' "$out"
out=$(run docker.io/alpine/openssl:3.3.2 -- openssl version || true); expect "openssl version" '^OpenSSL 3' "$out"
out=$(run docker.io/alpine/openssl:3.3.2 --user 65532:65532 -- sh -c 'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=x -days 2 -keyout /dev/null 2>/dev/null | openssl x509 -noout -subject' || true)
expect "openssl req/x509" 'subject=CN ?= ?x' "$out"
out=$(run docker.io/flyway/flyway:10.20.1 --env FLYWAY_URL=jdbc:postgresql://127.0.0.1:5999/shop?sslmode=require \
  --env FLYWAY_USER=shop --env FLYWAY_PASSWORD=secret --env FLYWAY_LOCATIONS=filesystem:/flyway/sql -- flyway migrate; echo "status $?")
expect "flyway stub, no database: error line" "^ERROR: Unable to obtain connection from database \(jdbc:postgresql://127.0.0.1:5999/shop\?sslmode=require\) for user 'shop'" "$out"
expect "flyway stub, no database: status" '^status 1$' "$out"
expect "flyway stub masks the password" 'env FLYWAY_PASSWORD=<6 chars>' "$out"
out=$(run docker.io/library/e2e-tools:1 -- sh -c 'curl --version | head -n 1; openssl version; psql --version; git --version; pg_isready --version' || true)
expect "e2e-tools" 'psql \(PostgreSQL\) 15' "$out"
out=$(run registry.k8s.io/pause:3.2 -- /pause -v || true); expect "pause -v" '^pause.c' "$out"
out=$(run k8s.gcr.io/pause:3.2 -- sh -c true 2>&1 || true); expect "pause has no shell" 'no such file|not found|executable file' "$out"

# The app stand-in: volumes as a pod would mount them, as runAsUser 1000 + fsGroup would see them.
mkdir -p "$t/ro" "$t/rw" "$t/cm/..2024_01_01" && chmod 777 "$t/rw"
printf 'A=1\nexport B="two words"\n' >"$t/cm/..2024_01_01/app.env"
ln -s ..2024_01_01 "$t/cm/..data" && ln -s ..data/app.env "$t/cm/app.env"
echo x >"$t/ro/plain"
C run -d --net-host --cgroup "/$cg/app" --log-uri "file://$t/app.log" \
  --mount "type=bind,src=$t/ro,dst=/etc/app,options=rbind:ro" \
  --mount "type=bind,src=$t/rw,dst=/var/lib/app,options=rbind:rw" \
  --mount "type=bind,src=$t/cm,dst=/etc/app-env,options=rbind:ro" \
  ghcr.io/example/orders:3.1.0 app >/dev/null
sleep 1
C task ls | grep -q '^app .*RUNNING' && pass "app stand-in serving" || fail "app stand-in is not running: $(tr '\n' '|' <"$t/app.log")"
health=$(run docker.io/library/e2e-tools:1 -- curl -sS http://127.0.0.1:8080/healthz || true)
expect "app stand-in answers /healthz" '^ok' "$health"
C task kill -s SIGTERM app || true
stop_start=$(date +%s%N)
for _ in $(seq 50); do C task ls | grep -q '^app .*STOPPED' && break; sleep 0.1; done
C task ls | grep -q '^app .*STOPPED' && pass "app stand-in stops on SIGTERM ($(( ($(date +%s%N) - stop_start) / 1000000 ))ms)" || fail "app stand-in ignores SIGTERM"
C task delete app >/dev/null 2>&1 || true
C container delete app >/dev/null 2>&1 || true
out=$(run ghcr.io/example/orders:3.1.0 \
  --mount "type=bind,src=$t/ro,dst=/etc/app,options=rbind:ro" \
  --mount "type=bind,src=$t/rw,dst=/var/lib/app,options=rbind:rw" \
  --mount "type=bind,src=$t/cm,dst=/etc/app-env,options=rbind:ro" -- sh -c '/stand-in-app & sleep 1; kill -TERM $!; wait $!; echo "exit $?"' || true)
echo "$out" | sed 's/^/    | /'
expect "app: uid line" '^app: uid=1000 gid=1000 groups=1000' "$out"
expect "app: env file names" '^app: /etc/app-env/..2024_01_01/app.env sets A B$' "$out"
expect "app: summary" '^app: read 2 files in 3 volumes, wrote to 1$' "$out"
expect "app: exits 0 on SIGTERM" '^exit 0$' "$out"
chmod 600 "$t/ro/plain"
out=$(run ghcr.io/example/orders:3.1.0 --mount "type=bind,src=$t/ro,dst=/etc/app,options=rbind:ro" -- /stand-in-app; echo "status $?")
expect "app: unreadable file fails" '^app: cannot read /etc/app/plain' "$out"
expect "app: unreadable file status" '^status 1$' "$out"
chmod 755 "$t/rw"
out=$(run ghcr.io/example/orders:3.1.0 --mount "type=bind,src=$t/rw,dst=/var/lib/app,options=rbind:rw" -- /stand-in-app; echo "status $?")
expect "app: unwritable rw volume fails" '^app: cannot write /var/lib/app' "$out"
for ref in docker.io/library/nginx:1.27.3 docker.io/library/myapp:1.0 ghcr.io/example/web:2.4.1 ghcr.io/example/billing:2.0.4; do
  user=$(run "$ref" -- id -u || true)
  case $user in 0) fail "$ref runs as root" ;; *) pass "$ref runs as uid $user" ;; esac
done

# --- postgres, and the migration stubs against it -----------------------------------------------------
mkdir -p "$t/pgdata" && chmod 777 "$t/pgdata"   # as an emptyDir: root's, world-writable
C run -d --net-host --cgroup "/$cg/pg" --mount "type=bind,src=$t/pgdata,dst=/var/lib/postgresql/data,options=rbind:rw" \
  --env POSTGRES_USER=shop --env POSTGRES_DB=shop --env POSTGRES_PASSWORD=secret \
  --log-uri "file://$t/pg.log" docker.io/library/postgres:15 pg
ready=
for _ in $(seq 100); do
  if run docker.io/library/e2e-tools:1 -- pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.2
done
[ -n "$ready" ] && pass "postgres accepts connections" || fail "postgres did not start: $(tail -n 5 "$t/pg.log" | tr '\n' '|')"
out=$(run docker.io/library/e2e-tools:1 --env PGPASSWORD=secret --env PGSSLMODE=require -- \
  psql -X -At -h 127.0.0.1 -U shop -d shop -c 'SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' || true)
expect "psql -h 127.0.0.1 over SSL from e2e-tools" '^shop\|t$' "$out"
[ "$(stat -c %u:%g "$t/pgdata/pgdata")" = 999:999 ] && pass "PGDATA on an emptyDir-like dir: pgdata subdir owned by 999" || fail "pgdata: $(ls -ld "$t/pgdata"/*)"

mkdir -p "$t/sql/..2024_01_01"
echo 'CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint NOT NULL);' >"$t/sql/..2024_01_01/V1__create_orders.sql"
echo "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';" >"$t/sql/..2024_01_01/V2__add_status.sql"
ln -s ..2024_01_01 "$t/sql/..data"
ln -s ..data/V1__create_orders.sql "$t/sql/V1__create_orders.sql"
ln -s ..data/V2__add_status.sql "$t/sql/V2__add_status.sql"
flyway() {
  run docker.io/flyway/flyway:10.20.1 --user 65532:65532 \
    --mount "type=bind,src=$t/sql,dst=/flyway/sql,options=rbind:ro" \
    --env 'FLYWAY_URL=jdbc:postgresql://127.0.0.1:5432/shop?sslmode=require' --env FLYWAY_USER=shop \
    --env FLYWAY_PASSWORD=secret --env FLYWAY_LOCATIONS=filesystem:/flyway/sql -- flyway migrate
}
# Three at once, as three replicas' init containers: one applies, the others find it done.
flyway >"$t/f1" 2>&1 & p1=$!
flyway >"$t/f2" 2>&1 & p2=$!
flyway >"$t/f3" 2>&1 & p3=$!
wait $p1 $p2 $p3 || true
all=$(cat "$t/f1" "$t/f2" "$t/f3")
sed 's/^/    | /' "$t/f1"
[ "$(grep -c '^flyway-stub: Successfully applied 2 migrations$' <<<"$all")" = 1 ] && pass "flyway stub: one of three concurrent runs applied V1, V2" || fail "flyway concurrent: $all"
[ "$(grep -c '^flyway-stub: Schema is up to date. No migration necessary.$' <<<"$all")" = 2 ] && pass "flyway stub: the other two found the schema up to date" || fail "flyway concurrent: $all"
out=$(run docker.io/library/e2e-tools:1 --env PGPASSWORD=x -- psql -X -At -h 127.0.0.1 -U shop -d shop -c "SELECT string_agg(version, ',' ORDER BY version) FROM flyway_schema_history; SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'status'" || true)
expect "flyway stub: history and schema" '^1,2$' "$out"
expect "flyway stub: V2 applied" '^status$' "$out"
echo "SELEC broken;" >"$t/sql/..2024_01_01/V3__broken.sql"; ln -s ..data/V3__broken.sql "$t/sql/V3__broken.sql"
out=$(flyway; echo "status $?")
expect "flyway stub: failing migration's last line" '^ERROR: Migration of schema to version "3 - broken" failed: .*syntax error' "$out"
expect "flyway stub: failing migration status" '^status 1$' "$out"

lb=$t/changelog; mkdir -p "$lb"
cat >"$lb/changelog.sql" <<'EOF'
--liquibase formatted sql
--changeset alice:1
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
--rollback DROP TABLE customers;
--changeset alice:2
INSERT INTO customers VALUES (1, 'a;b');
EOF
cat >"$lb/changelog.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
  <include file="changelog.sql"/>
  <changeSet id="3" author="bob">
    <sql>ALTER TABLE customers ADD COLUMN tier int NOT NULL DEFAULT 1 CHECK (tier &lt; 10);</sql>
  </changeSet>
  <changeSet id="4" author="bob">
    <sql><![CDATA[UPDATE customers SET tier = 2 WHERE id > 0;]]></sql>
  </changeSet>
</databaseChangeLog>
EOF
liquibase() {
  run docker.io/liquibase/liquibase:4.28.0 \
    --mount "type=bind,src=$lb,dst=/liquibase/changelog,options=rbind:ro" \
    --env 'LIQUIBASE_COMMAND_URL=jdbc:postgresql://127.0.0.1:5432/shop?sslmode=require' --env LIQUIBASE_COMMAND_USERNAME=shop \
    --env LIQUIBASE_COMMAND_PASSWORD=secret --env LIQUIBASE_COMMAND_CHANGELOG_FILE=changelog.xml \
    --env LIQUIBASE_SEARCH_PATH=/liquibase/changelog --env HOME=/tmp -- liquibase update
}
out=$(liquibase || true); echo "$out" | sed 's/^/    | /'
expect "liquibase stub: first run" '^liquibase-stub: Run: +4$' "$out"
out=$(liquibase || true)
expect "liquibase stub: second run" '^liquibase-stub: Previously run: +4$' "$out"
out=$(run docker.io/library/e2e-tools:1 -- psql -X -At -h 127.0.0.1 -U shop -d shop -c "SELECT name, tier FROM customers" || true)
expect "liquibase stub: data" '^a;b\|2$' "$out"

migrate() {
  run ghcr.io/example/billing-migrations:2.0.4 --user 65532:65532 --env PGUSER=shop --env PGPASSWORD=secret -- \
    migrate -path /migrations -database 'postgres://127.0.0.1:5432/shop?sslmode=require' up
}
out=$(migrate || true); echo "$out" | sed 's/^/    | /'
expect "billing-migrations stub: applies 1 and 2" '^migrate-stub: 2/u add_invoice_status$' "$out"
out=$(migrate || true)
expect "billing-migrations stub: no change" '^migrate-stub: no change$' "$out"

C task kill -s SIGINT pg >/dev/null || true
for _ in $(seq 50); do C task ls | grep -q '^pg .*STOPPED' && break; sleep 0.1; done
C task ls | grep -q '^pg .*STOPPED' && pass "postgres stops on SIGINT" || fail "postgres did not stop"
C task delete pg >/dev/null 2>&1 || true; C container delete pg >/dev/null 2>&1 || true

if [ "$failures" -eq 0 ]; then echo "verify: ok"; else echo "verify: $failures failed"; exit 1; fi
INNER
)
exec unshare --mount --net --pid --fork --mount-proc env IMAGES="$images" VERIFY_TRACE="${VERIFY_TRACE:-}" \
  bash -c "$inner" verify </dev/null
