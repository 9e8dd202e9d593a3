//! Corpus for the `agentry-ingest` column-policy benchmark: a seeded CSV of customer transactions with the
//! column mix the policy meets in practice (numbers, a status, timestamps, UUIDs, emails, free text, codes).

use std::{
    io::{BufWriter, Write},
    path::Path,
};

use crate::Rng;

const STATUS: &[&str] = &["verified", "pending", "rejected", "review"];
const WORDS: &[&str] =
    &["parcel", "late", "hub", "scanned", "returned", "damaged", "customs", "depot", "label"];

/// Writes `rows` rows of CSV (with a header) to `out`; the same seed writes the same bytes.
pub fn write_csv<W: Write>(out: W, seed: u64, rows: usize) -> std::io::Result<()> {
    let mut rng = Rng::new(seed);
    let mut w = BufWriter::with_capacity(1 << 16, out);
    writeln!(w, "id,amount_usd,kyc_status,created_at,user_ref,email,note,order_code")?;
    for id in 1..=rows {
        let a = rng.next_u64();
        let b = rng.next_u64();
        writeln!(
            w,
            "{id},{}.{:02},{},2026-{:02}-{:02}T{:02}:{:02}:{:02}Z,{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x},user{}@example.com,{} {} {},ORD-{:06}",
            rng.below(100_000),
            rng.below(100),
            STATUS[rng.below(STATUS.len() as u64) as usize],
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff,
            rng.below(1_000_000),
            WORDS[rng.below(WORDS.len() as u64) as usize],
            WORDS[rng.below(WORDS.len() as u64) as usize],
            rng.below(1000),
            rng.below(1_000_000),
        )?;
    }
    w.flush()
}

/// The corpus file for `rows` rows under `dir`, written once and reused while its length matches.
pub fn csv_file(dir: &Path, seed: u64, rows: usize) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("ingest-columns-{seed}-{rows}.csv"));
    let mut counter = Counter(0);
    write_csv(&mut counter, seed, rows)?;
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(counter.0) {
        let tmp = path.with_extension("tmp");
        write_csv(std::fs::File::create(&tmp)?, seed, rows)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(path)
}

/// A writer that only counts bytes.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_rectangular() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_csv(&mut a, 7, 50).expect("write");
        write_csv(&mut b, 7, 50).expect("write");
        assert_eq!(a, b);
        let text = String::from_utf8(a).expect("utf-8");
        assert_eq!(text.lines().count(), 51);
        assert!(text.lines().all(|l| l.split(',').count() == 8), "{text}");
    }
}
