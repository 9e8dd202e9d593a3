//! `agentry-cdc remote`: talk to a REAPI remote cache (Bazel's Remote Execution API over gRPC).

use std::{
    io::{IsTerminal, Write},
    path::PathBuf,
    time::Duration,
};

use agentry_cdc::{
    FsStore, Params,
    remote::{BlobReport, BlockingRemoteCas, Chunking, RemoteOptions},
};
use agentry_types::{Digest, DigestFunction};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::UsageError;

#[derive(Debug, Args)]
pub(crate) struct RemoteCommand {
    #[command(flatten)]
    conn: Connection,
    #[command(subcommand)]
    command: RemoteSub,
}

#[derive(Debug, Args)]
struct Connection {
    /// The remote cache: grpc://host:port, or grpcs://host:port for TLS.
    #[arg(long, global = true, value_name = "URL")]
    remote: Option<String>,
    /// The REAPI instance name.
    #[arg(long, global = true, default_value = "", value_name = "NAME")]
    instance: String,
    /// Extra request header, NAME=VALUE (repeatable), e.g. x-buildbuddy-api-key=KEY.
    #[arg(long = "header", global = true, value_name = "K=V")]
    headers: Vec<String>,
    /// PEM file of certificate authorities to trust for grpcs:// instead of the system's roots.
    #[arg(long, global = true, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Deadline of each call in seconds (for streams: the longest wait for the next message).
    #[arg(long, global = true, default_value_t = 60, value_name = "SECS")]
    timeout: u64,
    /// Calls in flight at once per blob.
    #[arg(long, global = true, default_value_t = 16, value_name = "N")]
    concurrency: usize,
    /// Digest function to use if the server offers it: sha256 or blake3 (default: sha256 if offered).
    #[arg(long, global = true, value_name = "NAME")]
    digest_function: Option<DigestFunction>,
    /// Print JSON: one object per blob (or one object for caps).
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum RemoteSub {
    /// Print what the server supports and what this client will do with it.
    Caps,
    /// Upload files as blobs: chunked (only the chunks the server lacks, then a splice) when the server supports
    /// it and a file is over the chunking threshold, else whole.
    Upload {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Download a blob to a file: chunked when the server can split it, whole otherwise. The file appears
    /// only once the whole blob arrived and matches its digest.
    Download {
        /// The blob, as hash/size.
        digest: String,
        /// Where to write it.
        #[arg(short, long)]
        output: PathBuf,
        /// A local chunk store (created if needed) used as a disk cache: chunks it holds are not fetched, and
        /// fetched chunks are stored in it. Without it, blobs are fetched whole.
        #[arg(long, value_name = "DIR")]
        cache: Option<PathBuf>,
    },
    /// Print a blob's chunk digests as the server records them (SplitBlob), one per line.
    Split {
        /// The blob, as hash/size.
        digest: String,
    },
    /// Print the digests the server does not hold (FindMissingBlobs), one per line.
    FindMissing {
        /// The digests, as hash/size.
        #[arg(required = true)]
        digests: Vec<String>,
    },
}

fn parse_digest(text: &str) -> Result<Digest> {
    text.parse::<Digest>()
        .map_err(|e| UsageError(format!("bad digest {text:?} (expected hash/size): {e}")).into())
}

impl Connection {
    fn connect(&self) -> Result<BlockingRemoteCas> {
        let Some(url) = &self.remote else {
            return Err(UsageError(
                "--remote URL is required (grpc://host:port or grpcs://host:port)".into(),
            )
            .into());
        };
        let options = RemoteOptions {
            instance: self.instance.clone(),
            headers: self.headers.clone(),
            ca_cert: self.ca_cert.clone(),
            timeout: Duration::from_secs(self.timeout.max(1)),
            concurrency: self.concurrency.max(1),
            digest_function: self.digest_function,
            ..RemoteOptions::default()
        };
        let client = BlockingRemoteCas::connect(url, options)?;
        if let Some(reason) = client.capabilities().chunking_off_reason()
            && client.capabilities().rep_max_cdc.is_some()
        {
            eprintln!("note: {url}: {reason}; blobs move whole");
        }
        Ok(client)
    }
}

pub(crate) fn run(cmd: RemoteCommand, out: &mut impl Write) -> Result<()> {
    let conn = &cmd.conn;
    // Digests are checked before connecting, so a typo is reported as such whatever the server's state.
    match &cmd.command {
        RemoteSub::Download { digest, .. } | RemoteSub::Split { digest } => {
            parse_digest(digest)?;
        }
        RemoteSub::FindMissing { digests } => {
            for d in digests {
                parse_digest(d)?;
            }
        }
        RemoteSub::Caps | RemoteSub::Upload { .. } => {}
    }
    let client = conn.connect()?;
    match cmd.command {
        RemoteSub::Caps => caps(&client, conn.json, out),
        RemoteSub::Upload { files } => {
            for path in &files {
                let len =
                    std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
                let bar = bar(len, &path.display().to_string());
                let inc = |n: u64| bar.inc(n);
                let report = client
                    .upload_file(path, &inc)
                    .with_context(|| format!("uploading {}", path.display()))?;
                bar.finish_and_clear();
                print_report(&report, Some(&path.display().to_string()), conn.json, out)?;
            }
            Ok(())
        }
        RemoteSub::Download { digest, output, cache } => {
            let blob = parse_digest(&digest)?;
            let store = match cache {
                Some(dir) => {
                    let params = client
                        .capabilities()
                        .params()
                        .cloned()
                        .map_or_else(|| Params::reapi(agentry_cdc::REAPI_DEFAULT_AVG, 0), Ok)?;
                    Some(
                        FsStore::open(&dir, blob.function(), params)
                            .with_context(|| format!("opening the cache {}", dir.display()))?,
                    )
                }
                None => None,
            };
            let bar = bar(blob.size_bytes(), &output.display().to_string());
            let inc = |n: u64| bar.inc(n);
            let report = client.download(&blob, &output, store.as_ref(), &inc)?;
            bar.finish_and_clear();
            print_report(&report, Some(&output.display().to_string()), conn.json, out)
        }
        RemoteSub::Split { digest } => {
            let blob = parse_digest(&digest)?;
            let Some(layout) = client.split_blob(&blob)? else {
                bail!("{} holds no chunk mapping for {blob}", client.client().url())
            };
            if conn.json {
                let chunks: Vec<String> = layout.iter().map(ToString::to_string).collect();
                writeln!(out, "{}", serde_json::json!({"digest": blob.to_string(), "chunks": chunks}))?;
            } else {
                for d in layout {
                    writeln!(out, "{d}")?;
                }
            }
            Ok(())
        }
        RemoteSub::FindMissing { digests } => {
            let digests = digests.iter().map(|d| parse_digest(d)).collect::<Result<Vec<_>>>()?;
            let missing = client.find_missing_blobs(&digests)?;
            if conn.json {
                let missing: Vec<String> = missing.iter().map(ToString::to_string).collect();
                writeln!(out, "{}", serde_json::json!({"missing": missing}))?;
            } else {
                for d in missing {
                    writeln!(out, "{d}")?;
                }
            }
            Ok(())
        }
    }
}

fn bar(len: u64, label: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_owned());
    bar
}

fn print_report(r: &BlobReport, file: Option<&str>, json: bool, out: &mut impl Write) -> Result<()> {
    if json {
        let mut doc = serde_json::json!({
            "digest": r.digest.to_string(),
            "bytes_total": r.bytes_total,
            "bytes_transferred": r.bytes_transferred,
            "chunks_total": r.chunks_total,
            "chunks_transferred": r.chunks_transferred,
            "rpcs": r.rpcs,
            "mode": r.mode.as_str(),
        });
        if let Some(reason) = &r.reason {
            doc["reason"] = reason.clone().into();
        }
        if let Some(f) = file {
            doc["file"] = f.into();
        }
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    write!(
        out,
        "{}\t{}\t{} of {} bytes moved, {} of {} chunks, {} calls",
        r.digest,
        r.mode.as_str(),
        r.bytes_transferred,
        r.bytes_total,
        r.chunks_transferred,
        r.chunks_total,
        r.rpcs
    )?;
    if let Some(reason) = &r.reason {
        write!(out, " ({reason})")?;
    }
    if let Some(f) = file {
        write!(out, "\t{f}")?;
    }
    writeln!(out)?;
    Ok(())
}

fn caps(client: &BlockingRemoteCas, json: bool, out: &mut impl Write) -> Result<()> {
    let c = client.capabilities();
    let (chunking, avg, seed) = match &c.chunking {
        Chunking::FastCdc2020(p) => ("fast_cdc_2020".to_owned(), Some(p.avg_size()), Some(p.seed())),
        Chunking::RepMaxCdc(_) => ("rep_max_cdc".to_owned(), None, None),
        Chunking::Off { reason } => (format!("off: {reason}"), None, None),
        _ => ("unknown".to_owned(), None, None),
    };
    let rep_max = c.rep_max_params();
    let threshold = c.chunking_threshold();
    if json {
        let doc = serde_json::json!({
            "url": client.client().url(),
            "digest_function": c.digest_function.as_str(),
            "digest_functions": c.digest_functions,
            "max_batch_total_size_bytes": c.max_batch_total_size_bytes,
            "max_cas_blob_size_bytes": c.max_cas_blob_size_bytes,
            "split_blob_support": c.split_blob_support,
            "splice_blob_support": c.splice_blob_support,
            "fast_cdc_2020_params": c.fast_cdc_2020.map(|(avg, seed)| serde_json::json!({"avg_chunk_size_bytes": avg, "seed": seed})),
            "rep_max_cdc_params": c.rep_max_cdc.map(|(min, horizon)| serde_json::json!({"min_chunk_size_bytes": min, "horizon_size_bytes": horizon})),
            "low_api_version": c.low_api_version.to_string(),
            "high_api_version": c.high_api_version.to_string(),
            "chunking": if c.params().is_some() { "fast_cdc_2020" } else if rep_max.is_some() { "rep_max_cdc" } else { "off" },
            "chunking_off_reason": c.chunking_off_reason(),
            "avg_chunk_size_bytes": avg,
            "seed": seed,
            "min_chunk_size_bytes": rep_max.map(|p| p.min_size()),
            "horizon_size_bytes": rep_max.map(|p| p.horizon_size()),
            "chunking_threshold_bytes": threshold,
            "chunk_mapping_rpcs": if c.streaming_chunk_mapping() { "GetChunkMapping/RegisterChunkMapping" } else { "SplitBlob/SpliceBlob" },
        });
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    writeln!(out, "url\t{}", client.client().url())?;
    writeln!(out, "api\t{} to {}", c.low_api_version, c.high_api_version)?;
    writeln!(
        out,
        "digest_function\t{} (server offers {})",
        c.digest_function,
        c.digest_functions.join(", ")
    )?;
    writeln!(out, "max_batch_total_size_bytes\t{}", c.max_batch_total_size_bytes)?;
    writeln!(out, "split_blob_support\t{}", c.split_blob_support)?;
    writeln!(out, "splice_blob_support\t{}", c.splice_blob_support)?;
    writeln!(out, "chunking\t{chunking}")?;
    if let (Some(avg), Some(seed), Some(t)) = (avg, seed, threshold) {
        writeln!(out, "fast_cdc_2020\tavg {avg}, seed {seed}, blobs over {t} bytes are chunked")?;
    }
    if let (Some(p), Some(t)) = (rep_max, threshold) {
        let (min, horizon) = (p.min_size(), p.horizon_size());
        writeln!(out, "rep_max_cdc\tmin {min}, horizon {horizon}, blobs over {t} bytes are chunked")?;
    }
    Ok(())
}
