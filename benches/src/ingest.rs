//! Corpora for the `agentry-ingest` document benchmarks: a seeded synthetic markdown book, and the Rust Book
//! snapshots of the steering folder when they are present.

use std::path::{Path, PathBuf};

use crate::Rng;

const WORDS: &[&str] = &[
    "ownership",
    "borrow",
    "reference",
    "lifetime",
    "trait",
    "generic",
    "closure",
    "iterator",
    "vector",
    "string",
    "slice",
    "struct",
    "enum",
    "pattern",
    "match",
    "module",
    "crate",
    "package",
    "error",
    "result",
    "option",
    "thread",
    "channel",
    "mutex",
    "async",
    "future",
    "macro",
    "unsafe",
    "pointer",
    "box",
    "heap",
    "stack",
    "value",
    "type",
    "function",
    "method",
    "compile",
    "runtime",
    "memory",
    "safety",
    "test",
    "cargo",
    "build",
    "release",
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "that",
    "we",
    "can",
    "this",
    "with",
    "for",
    "it",
    "as",
    "when",
];

fn sentence(rng: &mut Rng) -> String {
    let n = 6 + rng.below(14) as usize;
    let mut s: Vec<&str> = (0..n).map(|_| WORDS[rng.below(WORDS.len() as u64) as usize]).collect();
    let first = s[0].to_owned();
    let cap = first[..1].to_uppercase() + &first[1..];
    s[0] = "";
    format!("{cap}{}.", s.join(" "))
}

/// `docs` synthetic markdown chapters: headings, prose paragraphs and fenced code, seeded.
pub fn synthetic_book(seed: u64, docs: usize) -> Vec<(String, String)> {
    let mut rng = Rng::new(seed);
    (0..docs)
        .map(|d| {
            let mut text = format!("# Chapter {d}: {}\n\n", sentence(&mut rng).trim_end_matches('.'));
            for s in 0..(3 + rng.below(5)) {
                text.push_str(&format!("## Section {d}.{s} {}\n\n", WORDS[rng.below(WORDS.len() as u64) as usize]));
                for _ in 0..(2 + rng.below(6)) {
                    let sentences: Vec<String> = (0..(1 + rng.below(5))).map(|_| sentence(&mut rng)).collect();
                    text.push_str(&sentences.join(" "));
                    text.push_str("\n\n");
                    if rng.below(5) == 0 {
                        text.push_str("```rust\nfn main() {\n    let v = vec![1, 2, 3];\n\n    println!(\"{v:?}\");\n}\n```\n\n");
                    }
                }
            }
            (format!("ch{d:03}.md"), text)
        })
        .collect()
}

/// `n` synthetic chunk-sized paragraphs for query-latency measurements, seeded.
pub fn synthetic_paragraphs(seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| (0..(1 + rng.below(4))).map(|_| sentence(&mut rng)).collect::<Vec<_>>().join(" "))
        .collect()
}

/// The folder holding the Rust Book snapshots: `AGENTRY_RUST_BOOK_DIR`, or the steering folder's
/// `shared/data/rust-book` beside the workspace; `None` when neither exists.
pub fn rust_book_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("AGENTRY_RUST_BOOK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/rust-book"));
    dir.join("2025-08-02").is_dir().then_some(dir)
}

/// The Rust Book snapshot folders in date order.
pub const RUST_BOOK_SNAPSHOTS: [&str; 4] = ["2023-04-13", "2024-02-19", "2024-11-27", "2025-08-02"];

/// U per step (share of the newer snapshot's paragraphs whose exact text existed before), from the README of
/// the Rust Book data folder.
pub const RUST_BOOK_U: [f64; 3] = [0.9973, 0.6483, 0.7096];

/// Every markdown file under `dir`, as (path relative to `dir`, text), sorted by path.
pub fn read_markdown_tree(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let rel = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path)?));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The PyPI packages of the LangChain anchor, pinned.
pub const LANGCHAIN_PACKAGES: [&str; 5] = [
    "langchain-core==1.8.3",
    "langchain-community==0.4.2",
    "langchain-text-splitters==1.1.3",
    "SQLAlchemy==2.1.9",
    "greenlet==3.5.6",
];

/// The cargo target folder the running bench executable lives in (`<target>/<profile>/deps/...`): on the
/// build's disk, unlike a temporary folder that may be in memory.
pub fn bench_target_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("bench executable path: {e}"))?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .ok_or_else(|| "bench does not run from <target>/<profile>/deps".to_owned())
}

/// The Python of a virtual environment `<target>/bench-venv/langchain` holding [`LANGCHAIN_PACKAGES`],
/// created with `python3 -m venv` and pip on first use. The error says why the anchor cannot run (no
/// python3, no venv module, pip cannot reach the registry).
pub fn langchain_python() -> Result<PathBuf, String> {
    let target = bench_target_dir()?;
    let venv = target.join("bench-venv").join("langchain");
    let python = venv.join("bin").join("python");
    let ready = |py: &Path| {
        std::process::Command::new(py)
            .args(["-c", "import langchain_core, langchain_community, langchain_text_splitters, greenlet"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ready(&python) {
        return Ok(python);
    }
    let run = |cmd: &mut std::process::Command, what: &str| -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(format!("{what} failed: {}", err.lines().last().unwrap_or("no message")))
        }
    };
    run(std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv), "python3 -m venv")?;
    run(
        std::process::Command::new(&python)
            .args(["-m", "pip", "install", "--quiet"])
            .args(LANGCHAIN_PACKAGES),
        "pip install of the LangChain packages",
    )?;
    if ready(&python) {
        Ok(python)
    } else {
        Err("the LangChain packages do not import after install".to_owned())
    }
}
