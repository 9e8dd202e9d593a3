# Sourced by .ci/run: installs BuildGrid (a real REAPI server, from PyPI) into a virtual environment under target/,
# starts two instances on free loopback ports (one with SplitBlob/SpliceBlob, one without), and exports
# AGENTRY_REAPI_URL and AGENTRY_REAPI_URL_NOCHUNK so agentry-cdc's remote tests run against them, and AGENTRY_BGD
# (the installed bgd) so a test can start and stop a server of its own. .ci/run stops the servers by pid (bgd_stop)
# when it exits, pass or fail. Skipped (with a message) when Python 3.13 is not available.
BGD_VERSION=0.9.1
bgd_python() {
  local py
  for py in "$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python3" "$(command -v python3.13 || true)"; do
    if [ -n "$py" ] && [ -x "$py" ] && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  return 1
}
bgd_free_port() {
  local port
  for port in $(seq "$1" $(("$1" + 100))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  return 1
}
bgd_start_one() { # name port chunking
  local conf="$BGD_DIR/$1.yml"
  sed -e "s/@PORT@/$2/" -e "s/@CHUNKING@/$3/" crates/cdc/tests/buildgrid/cas.yml.in >"$conf"
  "$BGD_VENV/bin/bgd" server start "$conf" >"$BGD_DIR/$1.log" 2>&1 &
  BGD_PIDS+=("$!")
}
bgd_wait() { # port
  local i
  for i in $(seq 1 120); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}
BGD_PIDS=()
bgd_stop() {
  local pid
  for pid in "${BGD_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BGD_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
bgd_start() {
  local py
  if ! py=$(bgd_python); then
    echo "==> Python 3.13 not found: BuildGrid cannot run, the agentry-cdc remote tests will be skipped"
    return 0
  fi
  BGD_VENV="$PWD/target/buildgrid-$BGD_VERSION"
  if [ ! -x "$BGD_VENV/bin/bgd" ]; then
    echo "==> installing buildgrid==$BGD_VERSION from PyPI into target/"
    "$py" -m venv "$BGD_VENV"
    "$BGD_VENV/bin/pip" install -q --disable-pip-version-check "buildgrid==$BGD_VERSION"
  fi
  BGD_DIR=$(mktemp -d)
  local chunked plain
  chunked=$(bgd_free_port 50551)
  bgd_start_one chunked "$chunked" true
  plain=$(bgd_free_port $((chunked + 1)))
  bgd_start_one plain "$plain" false
  if ! bgd_wait "$chunked" || ! bgd_wait "$plain"; then
    echo "==> BuildGrid did not start; its logs:"
    cat "$BGD_DIR"/*.log
    bgd_stop
    return 1
  fi
  "$BGD_VENV/bin/bgd" server lint "$BGD_DIR/chunked.yml" >/dev/null
  export AGENTRY_BGD="$BGD_VENV/bin/bgd"
  export AGENTRY_REAPI_URL="grpc://127.0.0.1:$chunked"
  export AGENTRY_REAPI_URL_NOCHUNK="grpc://127.0.0.1:$plain"
  echo "==> BuildGrid $BGD_VERSION running at $AGENTRY_REAPI_URL (chunking) and $AGENTRY_REAPI_URL_NOCHUNK (no chunking)"
}
bgd_start
