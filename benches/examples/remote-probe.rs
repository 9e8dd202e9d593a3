//! Times one upload and one download through the REAPI client, for looking into a transfer by hand:
//! `remote-probe URL FILE [--no-upload] [--concurrency N] [--idle SECS] [--no-cache]` uploads FILE (unless told
//! not to), waits `--idle` seconds, then downloads it into a fresh local cache (or none), printing each report and
//! time.

use std::time::Instant;

use agentry_cdc::{
    FsStore,
    remote::{BlockingRemoteCas, RemoteOptions},
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, file) = match args.as_slice() {
        [u, f, ..] => (u.clone(), std::path::PathBuf::from(f)),
        _ => {
            return Err(
                "usage: remote-probe URL FILE [--no-upload] [--concurrency N] [--idle SECS] [--no-cache]"
                    .into(),
            );
        }
    };
    let upload = !args.iter().any(|a| a == "--no-upload");
    let concurrency = args
        .iter()
        .position(|a| a == "--concurrency")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(16), |n| n.parse())?;
    let remote = BlockingRemoteCas::connect(&url, RemoteOptions { concurrency, ..RemoteOptions::default() })?;
    let digest = if upload {
        let t = Instant::now();
        let r = remote.upload_file(&file, &|_| {})?;
        println!("upload {:.2} s {r:?}", t.elapsed().as_secs_f64());
        r.digest
    } else {
        let data = std::fs::read(&file)?;
        agentry_cdc::digest(agentry_types::DigestFunction::Sha256, &data)
    };
    let idle: u64 =
        args.iter().position(|a| a == "--idle").and_then(|i| args.get(i + 1)).map_or(Ok(0), |n| n.parse())?;
    std::thread::sleep(std::time::Duration::from_secs(idle));
    let dir = tempfile::tempdir()?;
    let params = remote.capabilities().params().cloned().ok_or("no chunking")?;
    let cache = FsStore::open(dir.path().join("cache"), digest.function(), params)?;
    let t = Instant::now();
    let cache = (!args.iter().any(|a| a == "--no-cache")).then_some(&cache);
    let r = remote.download(&digest, &dir.path().join("out"), cache, &|_| {})?;
    println!("download {:.2} s {r:?}", t.elapsed().as_secs_f64());
    Ok(())
}
