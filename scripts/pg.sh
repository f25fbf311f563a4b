#!/usr/bin/env bash
# A throw-away PostgreSQL server on loopback for the tests: `pg.sh start` prints the URL of a
# database that the non-superuser role "tresen" owns; `pg.sh stop` removes the cluster.
# Row-level security binds only roles without SUPERUSER and BYPASSRLS, so the tests connect
# as such a role, as the service should in production.
set -euo pipefail
dir=${TRESEN_PG_DIR:-/tmp/tresen-test-pg}
port=${TRESEN_PG_PORT:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "pg.sh: PostgreSQL server not installed (apt-get install postgresql)" >&2; exit 2; }

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
	if [ -f "$dir/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
		:
	else
		rm -rf "$dir"
		mkdir -p "$dir"
		[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
		as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
		as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
		as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt -c "CREATE ROLE tresen LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS" >/dev/null
		as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt -c "CREATE DATABASE tresen OWNER tresen" >/dev/null
	fi
	echo "postgres://tresen@127.0.0.1:$port/tresen?sslmode=disable"
	;;
stop)
	[ -d "$dir" ] && as_pg "$bin/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
	;;
*)
	echo "usage: pg.sh start|stop" >&2
	exit 2
	;;
esac
