//! `agentry-cdc`: content-defined chunking, dedup estimates and a local chunk store from the command line.

mod dedup;
mod remote;

use std::{
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    time::Duration,
};

use agentry_cdc::{ChunkStore, FsStore, Hasher, Params, RepMaxParams, StreamChunker, digest};
use agentry_types::{Digest, DigestFunction};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

/// Content-defined chunking (FastCDC 2020 and RepMaxCDC as the Remote Execution API defines them) and a local
/// chunk store.
#[derive(Debug, Parser)]
#[command(name = "agentry-cdc", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the chunks of a file: offset, length and digest, one line per chunk.
    Chunk {
        /// The file to chunk.
        file: PathBuf,
        #[command(flatten)]
        chunking: Chunking,
        /// Print JSON Lines: {"offset":..,"length":..,"digest":".."}.
        #[arg(long)]
        json: bool,
        /// Print only offsets and lengths, without digesting the chunks (one thread, streaming).
        #[arg(long)]
        no_digest: bool,
    },
    /// Treat the files as a version series and report what a chunk store would store and move for each,
    /// against fixed-size chunking at the same average size, then FastCDC and RepMaxCDC side by side.
    Dedup {
        /// The files, oldest first.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        chunking: Chunking,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Work with a local chunk store.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Talk to a REAPI remote cache (Bazel's Remote Execution API over gRPC): chunked upload and download.
    Remote(remote::RemoteCommand),
}

/// A mistake in how the command was called (a malformed digest, a missing --remote): exit code 2.
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The chunking function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Chunker {
    /// FastCDC 2020 (`--avg`, `--seed`).
    Fastcdc,
    /// RepMaxCDC (`--min`, `--horizon`).
    Repmax,
}

#[derive(Debug, Args)]
pub(crate) struct Chunking {
    /// Chunking function: fastcdc (FastCDC 2020) or repmax (RepMaxCDC).
    #[arg(long, value_enum, default_value = "fastcdc")]
    chunker: Chunker,
    /// RepMaxCDC minimum chunk size in bytes; chunks are shorter than twice this (default 256 KiB with
    /// `chunk`, 3/4 of --avg with `dedup`, which gives about the same average size as FastCDC).
    #[arg(long)]
    min: Option<u64>,
    /// RepMaxCDC horizon in bytes (default 8 x min, as REAPI recommends).
    #[arg(long)]
    horizon: Option<u64>,
    /// Average chunk size in bytes (a power of two from 1 KiB to 1 MiB; 8 MiB with --extended).
    #[arg(long, default_value_t = agentry_cdc::REAPI_DEFAULT_AVG)]
    avg: u32,
    /// Seed mixed into the gear table (REAPI recommends 0).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Allow averages up to 8 MiB.
    #[arg(long)]
    extended: bool,
    /// Files of at most this many bytes stay whole (default: the maximum chunk size, 4 * avg).
    #[arg(long)]
    threshold: Option<u64>,
    /// Digest function: sha256 (REAPI's default) or blake3.
    #[arg(long, default_value = "sha256")]
    digest: DigestFunction,
}

impl Chunking {
    /// RepMaxCDC parameters from --min and --horizon, with `default_min` when --min is absent.
    fn repmax(&self, default_min: u64) -> Result<RepMaxParams> {
        let min = self.min.unwrap_or(default_min);
        Ok(RepMaxParams::new(min, self.horizon.unwrap_or(8 * min))?)
    }

    fn params(&self) -> Result<Params> {
        let p = if self.extended {
            Params::reapi_extended(self.avg, self.seed)
        } else {
            Params::reapi(self.avg, self.seed)
        }?;
        Ok(match self.threshold {
            Some(t) => p.with_chunking_threshold(t),
            None => p,
        })
    }
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Chunk files into the store and record each as a blob; prints each blob's digest.
    Put {
        #[command(flatten)]
        store: StoreArgs,
        /// The files to store.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a blob (a stored object or a spliced blob) to a file or to standard output.
    Get {
        #[command(flatten)]
        store: StoreArgs,
        /// The blob's digest (`hash/size`, or `blake3/hash/size`).
        blob: Digest,
        /// Where to write it (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Print a blob's chunk digests (REAPI SplitBlob), chunking it if it is stored whole.
    Split {
        #[command(flatten)]
        store: StoreArgs,
        /// The blob's digest.
        blob: Digest,
    },
    /// Print object, layout and temporary-file counts and sizes.
    Stat {
        #[command(flatten)]
        store: StoreArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove objects no layout references and leftover temporary files, once they are older than --min-age.
    Gc {
        #[command(flatten)]
        store: StoreArgs,
        /// Digests to keep even if no layout references them.
        #[arg(long)]
        keep: Vec<Digest>,
        /// Grace period in seconds: unreferenced objects and temporary files younger than this stay, so chunks
        /// a writer has put but not yet spliced survive (0 removes them at once: only when no writer runs).
        #[arg(long, default_value_t = 3600, alias = "temp-older-than")]
        min_age: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct StoreArgs {
    /// The store's directory (created if needed).
    #[arg(long)]
    dir: PathBuf,
    #[command(flatten)]
    chunking: Chunking,
}

impl StoreArgs {
    fn open(&self) -> Result<FsStore> {
        Ok(FsStore::open(&self.dir, self.chunking.digest, self.chunking.params()?)?)
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes, joined.
            eprintln!("agentry-cdc: error: {e:#}");
            let usage = e.downcast_ref::<UsageError>().is_some();
            std::process::ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match cli.command {
        Command::Chunk { file, chunking, json, no_digest: true } => cuts(&file, &chunking, json, &mut out)?,
        Command::Chunk { file, chunking, json, no_digest: false } => chunk(&file, &chunking, json, &mut out)?,
        Command::Dedup { files, chunking, json } => dedup::dedup(&files, &chunking, json, &mut out)?,
        Command::Store { command } => store(command, &mut out)?,
        Command::Remote(cmd) => remote::run(cmd, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

pub(crate) fn progress(path: &Path) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(path.display().to_string());
    bar
}

pub(crate) fn open_stream(
    path: &Path,
    params: &Params,
) -> Result<StreamChunker<std::io::BufReader<std::fs::File>>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(StreamChunker::new(std::io::BufReader::with_capacity(1 << 20, file), params.clone()))
}

/// `chunk --no-digest`: the cut points alone, streamed.
fn cuts(path: &Path, chunking: &Chunking, json: bool, out: &mut impl Write) -> Result<()> {
    let found = match chunking.chunker {
        Chunker::Repmax => {
            agentry_cdc::repmax_chunk_file(&chunking.repmax(agentry_cdc::REPMAX_RECOMMENDED_MIN)?, path)
        }
        Chunker::Fastcdc => agentry_cdc::chunk_file(&chunking.params()?, path),
    }
    .with_context(|| format!("chunking {}", path.display()))?;
    let mut out = std::io::BufWriter::new(out);
    for c in &found {
        if json {
            writeln!(out, "{}", serde_json::json!({"offset": c.offset, "length": c.length}))?;
        } else {
            writeln!(out, "{}\t{}", c.offset, c.length)?;
        }
    }
    Ok(())
}

fn chunk(path: &Path, chunking: &Chunking, json: bool, out: &mut impl Write) -> Result<()> {
    let found = if chunking.chunker == Chunker::Repmax {
        // Read and cut on this thread, hashed on the others.
        let params = chunking.repmax(agentry_cdc::REPMAX_RECOMMENDED_MIN)?;
        agentry_cdc::repmax_chunk_and_digest_file(&params, path, chunking.digest, 0)
            .with_context(|| format!("chunking {}", path.display()))?
    } else {
        // Read ahead and hashed on all cores, with memory bounded by a few 16 MiB segments.
        agentry_cdc::chunk_and_digest_file(&chunking.params()?, path, chunking.digest, 0)
            .with_context(|| format!("chunking {}", path.display()))?
    };
    for c in &found {
        let (offset, length, d) = (c.chunk.offset, c.chunk.length, c.digest);
        if json {
            writeln!(
                out,
                "{}",
                serde_json::json!({"offset": offset, "length": length, "digest": d.to_string()})
            )?;
        } else {
            writeln!(out, "{offset}\t{length}\t{d}")?;
        }
    }
    Ok(())
}

fn store(command: StoreCommand, out: &mut impl Write) -> Result<()> {
    match command {
        StoreCommand::Put { store, files } => {
            let s = store.open()?;
            for path in &files {
                let blob = put_file(&s, path)?;
                writeln!(out, "{blob}\t{}", path.display())?;
            }
        }
        StoreCommand::Get { store, blob, output } => {
            let s = store.open()?;
            let Some(bytes) = s.get(&blob)? else { bail!("{blob} is not in the store") };
            match output {
                Some(path) => {
                    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?
                }
                None => out.write_all(&bytes)?,
            }
        }
        StoreCommand::Split { store, blob } => {
            let s = store.open()?;
            let Some(layout) = s.split(&blob)? else { bail!("{blob} is not in the store") };
            for d in layout {
                writeln!(out, "{d}")?;
            }
        }
        StoreCommand::Stat { store, json } => {
            let st = store.open()?.stat()?;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({"objects": st.objects, "object_bytes": st.object_bytes, "layouts": st.layouts,
                        "layout_bytes": st.layout_bytes, "temp_files": st.temp_files})
                )?;
            } else {
                writeln!(
                    out,
                    "objects\t{}\nobject_bytes\t{}\nlayouts\t{}\nlayout_bytes\t{}\ntemp_files\t{}",
                    st.objects, st.object_bytes, st.layouts, st.layout_bytes, st.temp_files
                )?;
            }
        }
        StoreCommand::Gc { store, keep, min_age, json } => {
            let r = store.open()?.gc(&keep, Duration::from_secs(min_age))?;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({"removed_objects": r.removed_objects, "removed_bytes": r.removed_bytes,
                        "removed_temp_files": r.removed_temp_files, "kept_objects": r.kept_objects,
                        "young_objects": r.young_objects})
                )?;
            } else {
                writeln!(
                    out,
                    "removed_objects\t{}\nremoved_bytes\t{}\nremoved_temp_files\t{}\nkept_objects\t{}\nyoung_objects\t{}",
                    r.removed_objects, r.removed_bytes, r.removed_temp_files, r.kept_objects, r.young_objects
                )?;
            }
        }
    }
    Ok(())
}

/// Streams a file into the store chunk by chunk and splices it; returns the blob's digest.
fn put_file(store: &FsStore, path: &Path) -> Result<Digest> {
    let mut chunker = open_stream(path, store.params())?;
    let mut blob = Hasher::new(store.digest_function());
    let mut layout = Vec::new();
    let bar = progress(path);
    while let Some((c, data)) = chunker.next_chunk().with_context(|| format!("reading {}", path.display()))? {
        let d = digest(store.digest_function(), data);
        store.put(&d, data)?;
        blob.update(data);
        layout.push(d);
        bar.inc(c.length);
    }
    bar.finish_and_clear();
    let blob = blob.finish();
    store.splice(&blob, &layout)?;
    Ok(blob)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
