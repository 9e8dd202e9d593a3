//! `agentry-cdc dedup`: what a chunk store would store for a version series, with the chosen chunker against
//! fixed-size blocks, then FastCDC and RepMaxCDC side by side.

use std::{
    collections::HashSet,
    io::Write,
    path::{Path, PathBuf},
};

use agentry_cdc::{Chunk, Params, RepMaxParams, RepMaxStreamChunker, StreamChunker, digest};
use agentry_types::Digest;
use anyhow::{Context, Result};

use crate::{Chunker, Chunking, open_stream, progress};

/// A file's stream chunker, FastCDC or RepMaxCDC.
enum FileChunker {
    Fast(StreamChunker<std::io::BufReader<std::fs::File>>),
    Rep(RepMaxStreamChunker<std::io::BufReader<std::fs::File>>),
}

impl FileChunker {
    fn fast(path: &Path, params: &Params) -> Result<Self> {
        Ok(Self::Fast(open_stream(path, params)?))
    }

    fn repmax(path: &Path, params: &RepMaxParams) -> Result<Self> {
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Ok(Self::Rep(RepMaxStreamChunker::new(std::io::BufReader::with_capacity(1 << 20, file), params)))
    }

    fn next_chunk(&mut self) -> Result<Option<(Chunk, &[u8])>, agentry_cdc::Error> {
        match self {
            Self::Fast(c) => c.next_chunk(),
            Self::Rep(c) => c.next_chunk(),
        }
    }
}

/// What one chunking function stores for the whole series: unique bytes and chunks, and the sizes of every
/// chunk cut.
#[derive(Debug, Default)]
struct SeriesStats {
    seen: HashSet<Digest>,
    stored_bytes: u64,
    chunks: u64,
    size_sum: f64,
    size_sq_sum: f64,
}

impl SeriesStats {
    fn add(&mut self, length: u64, d: Digest) -> bool {
        self.chunks += 1;
        self.size_sum += length as f64;
        self.size_sq_sum += (length as f64) * (length as f64);
        let new = self.seen.insert(d);
        if new {
            self.stored_bytes += length;
        }
        new
    }

    /// Mean and standard deviation of the chunk sizes.
    fn spread(&self) -> (f64, f64) {
        let n = self.chunks.max(1) as f64;
        let mean = self.size_sum / n;
        (mean, (self.size_sq_sum / n - mean * mean).max(0.0).sqrt())
    }
}

/// Per-file figures of `dedup`.
#[derive(Debug, Default, Clone, Copy)]
struct DedupRow {
    bytes: u64,
    cdc_chunks: u64,
    cdc_new_bytes: u64,
    fixed_new_bytes: u64,
}

pub(crate) fn dedup(files: &[PathBuf], chunking: &Chunking, json: bool, out: &mut impl Write) -> Result<()> {
    let params = chunking.params()?.with_chunking_threshold(0);
    let rep_params = chunking.repmax(u64::from(params.avg_size()) * 3 / 4)?;
    let fixed = params.avg_size() as usize;
    let mut seen_fixed = HashSet::new();
    // Index 0: FastCDC, 1: RepMaxCDC; the per-file rows follow --chunker.
    let mut stats = [SeriesStats::default(), SeriesStats::default()];
    let selected = usize::from(chunking.chunker == Chunker::Repmax);
    let mut rows = Vec::new();
    for path in files {
        let mut row = DedupRow::default();
        for (which, stat) in stats.iter_mut().enumerate() {
            let bar = progress(path);
            let mut chunker = if which == 0 {
                FileChunker::fast(path, &params)?
            } else {
                FileChunker::repmax(path, &rep_params)?
            };
            while let Some((c, data)) =
                chunker.next_chunk().with_context(|| format!("reading {}", path.display()))?
            {
                let new = stat.add(c.length, digest(chunking.digest, data));
                if which == selected {
                    row.bytes += c.length;
                    row.cdc_chunks += 1;
                    if new {
                        row.cdc_new_bytes += c.length;
                    }
                }
                bar.inc(c.length);
            }
            bar.finish_and_clear();
        }
        // Fixed-size blocks, read one at a time so memory stays bounded.
        let mut file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut block = vec![0u8; fixed];
        loop {
            let n =
                read_block(&mut file, &mut block).with_context(|| format!("reading {}", path.display()))?;
            if n == 0 {
                break;
            }
            if seen_fixed.insert(digest(chunking.digest, &block[..n])) {
                row.fixed_new_bytes += n as u64;
            }
        }
        rows.push((path, row));
    }
    let total = rows.iter().fold(DedupRow::default(), |a, (_, r)| DedupRow {
        bytes: a.bytes + r.bytes,
        cdc_chunks: a.cdc_chunks + r.cdc_chunks,
        cdc_new_bytes: a.cdc_new_bytes + r.cdc_new_bytes,
        fixed_new_bytes: a.fixed_new_bytes + r.fixed_new_bytes,
    });
    let ratio = |bytes: u64, stored: u64| if stored == 0 { 1.0 } else { bytes as f64 / stored as f64 };
    let described = [
        ("fastcdc", format!("avg {} seed {}", params.avg_size(), params.seed())),
        ("repmax", format!("min {} horizon {}", rep_params.min_size(), rep_params.horizon_size())),
    ];
    if json {
        let chunkers: Vec<_> = described
            .iter()
            .zip(&stats)
            .map(|((name, p), st)| {
                let (mean, sd) = st.spread();
                serde_json::json!({"chunker": name, "params": p, "bytes_stored": st.stored_bytes,
                    "unique_chunks": st.seen.len(), "chunks": st.chunks, "mean_chunk": mean, "sd_chunk": sd})
            })
            .collect();
        let files: Vec<_> = rows
            .iter()
            .map(|(p, r)| {
                serde_json::json!({"file": p.display().to_string(), "bytes": r.bytes, "cdc_chunks": r.cdc_chunks,
                    "cdc_new_bytes": r.cdc_new_bytes, "fixed_new_bytes": r.fixed_new_bytes})
            })
            .collect();
        let doc = serde_json::json!({
            "avg": params.avg_size(), "seed": params.seed(), "chunker": described[selected].0, "files": files,
            "chunkers": chunkers,
            "total": {"bytes": total.bytes, "cdc_chunks": total.cdc_chunks, "cdc_new_bytes": total.cdc_new_bytes,
                "fixed_new_bytes": total.fixed_new_bytes,
                "cdc_dedup_ratio": ratio(total.bytes, total.cdc_new_bytes),
                "fixed_dedup_ratio": ratio(total.bytes, total.fixed_new_bytes)},
        });
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    writeln!(out, "file\tbytes\tcdc_chunks\tcdc_new_bytes\tfixed_new_bytes")?;
    for (p, r) in &rows {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            p.display(),
            r.bytes,
            r.cdc_chunks,
            r.cdc_new_bytes,
            r.fixed_new_bytes
        )?;
    }
    writeln!(
        out,
        "total\t{}\t{}\t{}\t{}",
        total.bytes, total.cdc_chunks, total.cdc_new_bytes, total.fixed_new_bytes
    )?;
    writeln!(
        out,
        "dedup ratio (bytes / bytes stored): cdc {:.3}, fixed {} B {:.3}",
        ratio(total.bytes, total.cdc_new_bytes),
        fixed,
        ratio(total.bytes, total.fixed_new_bytes)
    )?;
    writeln!(out, "chunker\tparams\tbytes_stored\tunique_chunks\tchunks\tmean_chunk\tsd_chunk")?;
    for ((name, p), st) in described.iter().zip(&stats) {
        let (mean, sd) = st.spread();
        writeln!(
            out,
            "{name}\t{p}\t{}\t{}\t{}\t{mean:.0}\t{sd:.0}",
            st.stored_bytes,
            st.seen.len(),
            st.chunks
        )?;
    }
    Ok(())
}

/// Fills `block` from `reader` unless the stream ends first; returns how many bytes it read.
pub(crate) fn read_block(reader: &mut impl std::io::Read, block: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < block.len() {
        match reader.read(&mut block[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
