//! The anchor process for `agentry-cdc chunk FILE --digest sha256`: the `fastcdc` crate's streaming v2020
//! chunker (normalization level 2, REAPI sizes) with a `sha2` digest per chunk, serially, printing the same
//! `offset<TAB>length<TAB>hash/size` lines. Files of at most `max` bytes are one chunk, as REAPI's threshold says.
//!
//! usage: fastcdc-sha256 FILE [AVG]

use std::io::Write;

use fastcdc::v2020::{Normalization, StreamCDC};
use sha2::Digest as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: fastcdc-sha256 FILE [AVG]")?;
    let avg: usize = args.next().map_or(Ok(512 * 1024), |a| a.parse())?;
    let file = std::fs::File::open(&path)?;
    let len = file.metadata()?.len();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if len <= avg as u64 * 4 {
        let data = std::fs::read(&path)?;
        writeln!(out, "0\t{len}\t{:x}/{len}", sha2::Sha256::digest(&data))?;
        return Ok(());
    }
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    for chunk in StreamCDC::with_level_and_seed(reader, avg / 4, avg, avg * 4, Normalization::Level2, 0) {
        let c = chunk?;
        writeln!(out, "{}\t{}\t{:x}/{}", c.offset, c.length, sha2::Sha256::digest(&c.data), c.length)?;
    }
    Ok(())
}
