#!/bin/sh
# Builds a version series of normalized, uncompressed crate source tarballs for the dedup benchmark.
#
# usage: crate-series.sh OUT_DIR CRATE VERSION...
# example: crate-series.sh /tmp/syn-series syn 2.0.90 2.0.91 2.0.92 2.0.93 2.0.94 2.0.95 2.0.96 2.0.97 2.0.98 2.0.99
#
# Each version is fetched with the ordinary cargo client (a scratch project depending on `CRATE = "=VERSION"`,
# then `cargo fetch`), unpacked from ~/.cargo/registry/cache, and re-packed with a constant top directory,
# sorted names, zeroed times and owners, because raw crate tarballs name the version in every header.
# Output: OUT_DIR/NN-CRATE-VERSION.tar, numbered in the order given.
set -eu
out=$1; crate=$2; shift 2
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
for v in "$@"; do
  n=$((n + 1))
  proj="$work/p-$v"
  mkdir -p "$proj/src"
  printf '[package]\nname = "series-probe"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\n%s = { version = "=%s", default-features = false }\n' "$crate" "$v" > "$proj/Cargo.toml"
  : > "$proj/src/lib.rs"
  (cd "$proj" && cargo fetch -q)
  file=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$crate-$v.crate" | head -n 1)
  mkdir -p "$work/x-$v"
  gzip -dc "$file" | tar -x -C "$work/x-$v"
  mv "$work/x-$v/$crate-$v" "$work/x-$v/$crate"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/x-$v" -cf "$out/$(printf %02d $n)-$crate-$v.tar" "$crate"
done
ls -l "$out"
