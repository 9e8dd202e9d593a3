# Sourced by .ci/run: installs PostgreSQL from the distribution's packages, starts a throwaway cluster on
# loopback under a temporary folder and exports AGENTRY_PG_URL, so the postgres-feature tests always run in CI.
# Skipped (with a message) when the packages cannot be installed, e.g. without root.
pg_start() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "==> installing PostgreSQL from the distribution's packages"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
  fi
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$PG_BIN" ]; then
    echo "==> PostgreSQL not available: postgres-feature tests will be skipped"
    return 0
  fi
  # The first free port from 55432 on, so a server left over from an earlier run cannot fail this one.
  local port
  for port in $(seq 55432 55532); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  PG_DATA=$(mktemp -d)
  PG_AS=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DATA"
    PG_AS=(runuser -u postgres --)
  fi
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DATA/db" -U agentry --auth=trust >/dev/null
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA/db" -l "$PG_DATA/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DATA" start >/dev/null
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U agentry agentry_test
  export AGENTRY_PG_URL="postgresql://agentry@127.0.0.1:$port/agentry_test"
  PG_STARTED=1
  echo "==> PostgreSQL running at $AGENTRY_PG_URL"
}
# Called by .ci/run's exit trap, pass or fail.
pg_stop() {
  if [ -n "${PG_STARTED:-}" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA/db" -m fast stop >/dev/null 2>&1 || true
  fi
}
pg_start
