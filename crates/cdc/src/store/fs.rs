use std::{
    collections::HashSet,
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime},
};

use agentry_types::{Digest, DigestFunction};

use super::{ChunkStore, verify};
use crate::{error::Error, failpoint, params::Params};

/// The name of the file that marks a directory as a store and records its hash function.
const FORMAT_FILE: &str = "agentry-cdc-store";

/// A chunk store in a directory.
///
/// Objects live under `objects/<first two hex digits>/<hash>_<size>`, layouts under `layouts/` the same
/// way, one digest per line. Writes go to `tmp/`, are synced, then renamed into place, so a crash mid-put
/// never leaves a partial object where readers look; every read re-hashes the object, so a corrupted file
/// is reported as [`Error::Corrupt`] rather than returned.
#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
    function: DigestFunction,
    params: Params,
}

/// Sizes of what a store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Stored objects (chunks and whole blobs).
    pub objects: u64,
    /// Their total size in bytes.
    pub object_bytes: u64,
    /// Recorded blob layouts.
    pub layouts: u64,
    /// The total size of the blobs those layouts describe.
    pub layout_bytes: u64,
    /// Leftover temporary files (from interrupted writes).
    pub temp_files: u64,
}

/// What a garbage collection removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Objects removed.
    pub removed_objects: u64,
    /// Their total size in bytes.
    pub removed_bytes: u64,
    /// Leftover temporary files removed.
    pub removed_temp_files: u64,
    /// Objects kept (referenced, in `keep`, or too young to remove).
    pub kept_objects: u64,
    /// Of the kept objects, those no layout references and `keep` does not name, kept only because they are
    /// younger than the grace period (chunks a writer may be about to splice).
    pub young_objects: u64,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl FsStore {
    /// Opens the store in `root`, creating it if needed. An existing store keeps its hash function; asking for
    /// another one is an error.
    pub fn open(root: impl Into<PathBuf>, function: DigestFunction, params: Params) -> Result<Self, Error> {
        let root = root.into();
        for sub in ["objects", "layouts", "tmp"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        let marker = root.join(FORMAT_FILE);
        let expected = format!("agentry-cdc store 1 {function}\n");
        match fs::read_to_string(&marker) {
            Ok(text) if text == expected => {}
            Ok(text) => {
                return Err(Error::BadIndex {
                    path: marker,
                    line: 1,
                    reason: format!(
                        "store header is {:?}, expected {:?}",
                        text.trim_end(),
                        expected.trim_end()
                    ),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                write_atomically(&root.join("tmp"), &marker, expected.as_bytes(), Sync::Yes)?;
            }
            Err(e) => return Err(Error::io(marker, e)),
        }
        Ok(Self { root, function, params })
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, kind: &str, digest: &Digest) -> PathBuf {
        let hex = digest.hash_hex();
        self.root.join(kind).join(&hex[..2]).join(format!("{hex}_{}", digest.size_bytes()))
    }

    fn check_function(&self, digest: &Digest) -> Result<(), Error> {
        if digest.function() == self.function {
            Ok(())
        } else {
            Err(Error::WrongDigestFunction {
                digest: *digest,
                function: digest.function(),
                store: self.function,
            })
        }
    }

    /// Forgets a blob's layout (its chunks become garbage unless other layouts or `keep` name them).
    pub fn remove_layout(&self, blob: &Digest) -> Result<bool, Error> {
        let path = self.path("layouts", blob);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// A download cache's `put`: of bytes the caller has already hashed to `digest` (the REAPI client verifies
    /// every chunk it fetches), so they are not hashed a second time, and not synced to disk. Still written to a
    /// temporary file and renamed, so a reader never sees a partial object while the system runs; after a crash
    /// an object may be missing or fail its check on read, and the client then fetches it again (every object
    /// is hashed when read). Syncing costs two `fsync` calls per chunk: 72 chunks of a 76 MB download took
    /// 0.24 s into the cache against 0.14 s for the whole blob into one synced file.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn put_cached(&self, digest: &Digest, data: &[u8]) -> Result<(), Error> {
        self.put_unhashed(digest, data, Sync::No)
    }

    /// Stores an object whose bytes are known to hash to `digest`.
    fn put_unhashed(&self, digest: &Digest, data: &[u8], sync: Sync) -> Result<(), Error> {
        self.check_function(digest)?;
        // An object already stored is not rewritten, but its gc grace period starts again.
        if self.refresh(digest)? {
            return Ok(());
        }
        write_atomically(&self.root.join("tmp"), &self.path("objects", digest), data, sync)
    }

    /// Removes a stored object (a chunk or a whole blob), for instance one found corrupt, so that it can be
    /// stored again. Returns whether it was there.
    pub fn remove_object(&self, digest: &Digest) -> Result<bool, Error> {
        let path = self.path("objects", digest);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Counts objects, layouts and leftover temporary files.
    pub fn stat(&self) -> Result<StoreStats, Error> {
        let mut stats = StoreStats::default();
        for (path, _) in self.entries("objects")? {
            stats.objects += 1;
            stats.object_bytes += fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len();
        }
        for (_, digest) in self.entries("layouts")? {
            stats.layouts += 1;
            stats.layout_bytes += digest.size_bytes();
        }
        stats.temp_files = list_dir(&self.root.join("tmp"))?.len() as u64;
        Ok(stats)
    }

    /// Removes every object that no layout references, that is not in `keep` and that is at least `min_age`
    /// old, and temporary files at least `min_age` old (leftovers of interrupted writes).
    ///
    /// The grace period protects writers: a client puts chunks (or learns from `find_missing` that they are
    /// there) and only then splices the layout that references them; a gc in between must not remove them. An
    /// object's age counts from its last write, from a `put` that found it already stored, or from a
    /// `find_missing` that found it, so choose `min_age` longer than any upload takes. Zero removes everything
    /// unreferenced at once; use it only when no writer is running. The default of the command line is 1 hour.
    pub fn gc(&self, keep: &[Digest], min_age: Duration) -> Result<GcReport, Error> {
        let mut live: HashSet<Digest> = keep.iter().copied().collect();
        for (_, blob) in self.entries("layouts")? {
            live.extend(self.layout(&blob)?.unwrap_or_default());
        }
        let now = SystemTime::now();
        let old_enough = |path: &Path| -> Result<Option<u64>, Error> {
            let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
            let modified = meta.modified().map_err(|e| Error::io(path, e))?;
            // A modification time in the future (clock skew) counts as age zero.
            let age = now.duration_since(modified).unwrap_or_default();
            Ok((age >= min_age).then_some(meta.len()))
        };
        let mut report = GcReport::default();
        for (path, digest) in self.entries("objects")? {
            if live.contains(&digest) {
                report.kept_objects += 1;
                continue;
            }
            let Some(len) = old_enough(&path)? else {
                report.kept_objects += 1;
                report.young_objects += 1;
                continue;
            };
            fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            report.removed_objects += 1;
            report.removed_bytes += len;
        }
        for path in list_dir(&self.root.join("tmp"))? {
            if old_enough(&path)?.is_some() {
                fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                report.removed_temp_files += 1;
            }
        }
        Ok(report)
    }

    /// Marks a stored object as just used, so that gc's grace period starts again; false if it is not stored.
    fn refresh(&self, digest: &Digest) -> Result<bool, Error> {
        let path = self.path("objects", digest);
        let touched = fs::File::open(&path).and_then(|f| f.set_modified(SystemTime::now()));
        match touched {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Every entry under `objects/` or `layouts/` with the digest its name encodes.
    fn entries(&self, kind: &str) -> Result<Vec<(PathBuf, Digest)>, Error> {
        let mut out = Vec::new();
        for shard in list_dir(&self.root.join(kind))? {
            for path in list_dir(&shard)? {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                let parsed = name
                    .split_once('_')
                    .and_then(|(hex, size)| Some((hex, size.parse::<u64>().ok()?)))
                    .and_then(|(hex, size)| Digest::from_hex(self.function, hex, size).ok());
                match parsed {
                    Some(d) => out.push((path, d)),
                    None => {
                        return Err(Error::BadIndex {
                            path,
                            line: 0,
                            reason: "file name is not <hash>_<size>".to_owned(),
                        });
                    }
                }
            }
        }
        Ok(out)
    }
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let read = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in read {
        out.push(entry.map_err(|e| Error::io(dir, e))?.path());
    }
    out.sort();
    Ok(out)
}

/// Writes `data` to `dest` through a synced temporary file in `tmp_dir` and a rename, then syncs the
/// destination directory, so `dest` either does not exist or has all of `data`.
/// Whether a write reaches the disk before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sync {
    /// Data and rename synced: the write survives a crash.
    Yes,
    /// Left to the kernel: for a cache whose objects are checked when read.
    No,
}

fn write_atomically(tmp_dir: &Path, dest: &Path, data: &[u8], sync: Sync) -> Result<(), Error> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let tmp = tmp_dir.join(format!(
        "{}.{}.{nanos}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        let (head, tail) = data.split_at(data.len() / 2);
        file.write_all(head)?;
        failpoint::hit("mid-write");
        file.write_all(tail)?;
        if sync == Sync::Yes {
            file.sync_all()?;
        }
        failpoint::hit("after-temp-write");
        fs::rename(&tmp, dest)
    })();
    if let Err(e) = written {
        // Best effort: the temporary file is garbage either way, and gc removes what is left.
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(dest, e));
    }
    // Make the rename durable. Some filesystems refuse to sync a directory; the data itself is synced.
    if sync == Sync::Yes
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

impl ChunkStore for FsStore {
    fn digest_function(&self) -> DigestFunction {
        self.function
    }

    fn params(&self) -> &Params {
        &self.params
    }

    fn contains(&self, digest: &Digest) -> Result<bool, Error> {
        let path = self.path("objects", digest);
        path.try_exists().map_err(|e| Error::io(path, e))
    }

    fn put(&self, digest: &Digest, data: &[u8]) -> Result<(), Error> {
        self.check_function(digest)?;
        verify(digest, data)?;
        self.put_unhashed(digest, data, Sync::Yes)
    }

    /// Like the provided method, and like REAPI's `FindMissingBlobs`, which extends the lifetime of what it
    /// finds: every object found starts its gc grace period again, so a client that skips uploading it can
    /// still splice it.
    fn find_missing(&self, digests: &[Digest]) -> Result<Vec<Digest>, Error> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for d in digests {
            if seen.insert(*d) && !self.refresh(d)? && !self.has_complete_layout(d)? {
                out.push(*d);
            }
        }
        Ok(out)
    }

    fn get_object(&self, digest: &Digest) -> Result<Option<Vec<u8>>, Error> {
        let path = self.path("objects", digest);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let actual = crate::digest::digest(digest.function(), &bytes);
        if actual != *digest {
            return Err(Error::Corrupt { digest: *digest, path, actual });
        }
        Ok(Some(bytes))
    }

    fn layout(&self, blob: &Digest) -> Result<Option<Vec<Digest>>, Error> {
        let path = self.path("layouts", blob);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let d = line.parse::<Digest>().map_err(|e| Error::BadIndex {
                path: path.clone(),
                line: i + 1,
                reason: e.to_string(),
            })?;
            out.push(d);
        }
        Ok(Some(out))
    }

    fn put_layout(&self, blob: &Digest, chunks: &[Digest]) -> Result<(), Error> {
        self.check_function(blob)?;
        let text: String = chunks.iter().map(|d| format!("{d}\n")).collect();
        write_atomically(&self.root.join("tmp"), &self.path("layouts", blob), text.as_bytes(), Sync::Yes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::digest;

    fn open(dir: &Path) -> FsStore {
        FsStore::open(dir, DigestFunction::Sha256, Params::reapi(1024, 0).expect("valid")).expect("open")
    }

    #[test]
    fn put_get_roundtrip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = open(dir.path());
        let d = digest(DigestFunction::Sha256, b"chunk");
        s.put(&d, b"chunk").expect("put");
        assert_eq!(s.get_object(&d).expect("get"), Some(b"chunk".to_vec()));
        assert_eq!(s.stat().expect("stat").object_bytes, 5);
    }
    #[test]
    fn corrupt_object_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = open(dir.path());
        let d = digest(DigestFunction::Sha256, b"chunk");
        s.put(&d, b"chunk").expect("put");
        fs::write(s.path("objects", &d), b"chunK").expect("tamper");
        assert!(matches!(s.get_object(&d), Err(Error::Corrupt { digest, .. }) if digest == d));
    }
    #[test]
    fn gc_removes_unreferenced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = open(dir.path());
        let (a, b, c) = (
            digest(DigestFunction::Sha256, b"a"),
            digest(DigestFunction::Sha256, b"b"),
            digest(DigestFunction::Sha256, b"c"),
        );
        s.put(&a, b"a").expect("put");
        s.put(&b, b"b").expect("put");
        s.put(&c, b"c").expect("put");
        let ab = digest(DigestFunction::Sha256, b"ab");
        s.splice(&ab, &[a, b]).expect("splice");
        let report = s.gc(&[], Duration::ZERO).expect("gc");
        assert_eq!((report.removed_objects, report.kept_objects), (1, 2));
        assert!(!s.contains(&c).expect("contains"));
        assert_eq!(s.get(&ab).expect("get"), Some(b"ab".to_vec()));
    }

    /// Sets a file's modification time `secs` seconds into the past.
    fn age(path: &Path, secs: u64) {
        let then = SystemTime::now() - Duration::from_secs(secs);
        fs::File::open(path).and_then(|f| f.set_modified(then)).expect("set mtime");
    }

    fn gc_counts(s: &FsStore, min_age_secs: u64) -> (u64, u64, u64) {
        let r = s.gc(&[], Duration::from_secs(min_age_secs)).expect("gc");
        (r.removed_objects, r.young_objects, r.removed_temp_files)
    }

    #[test]
    fn gc_keeps_young_unreferenced_objects() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = open(dir.path());
        let (a, b) = (digest(DigestFunction::Sha256, b"a"), digest(DigestFunction::Sha256, b"b"));
        s.put(&a, b"a").expect("put");
        s.put(&b, b"b").expect("put");
        age(&s.path("objects", &a), 7200);
        assert_eq!(gc_counts(&s, 3600), (1, 1, 0));
        assert!(!s.contains(&a).expect("contains") && s.contains(&b).expect("contains"));
        assert_eq!(gc_counts(&s, 0), (1, 0, 0));
        assert!(!s.contains(&b).expect("contains"));
    }
    #[test]
    fn put_of_a_stored_object_restarts_its_grace_period() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = open(dir.path());
        let a = digest(DigestFunction::Sha256, b"a");
        s.put(&a, b"a").expect("put");
        age(&s.path("objects", &a), 7200);
        s.put(&a, b"a").expect("put again");
        assert_eq!(gc_counts(&s, 3600), (0, 1, 0));
    }
    #[test]
    fn find_missing_restarts_the_grace_period() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = open(dir.path());
        let (a, b) = (digest(DigestFunction::Sha256, b"a"), digest(DigestFunction::Sha256, b"b"));
        s.put(&a, b"a").expect("put");
        age(&s.path("objects", &a), 7200);
        assert_eq!(s.find_missing(&[a, b, a]).expect("find_missing"), vec![b]);
        assert_eq!(gc_counts(&s, 3600), (0, 1, 0));
    }
    #[test]
    fn gc_removes_old_temporary_files_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = open(dir.path());
        let (young, old) =
            (dir.path().join("tmp").join("1.0.1.tmp"), dir.path().join("tmp").join("1.1.1.tmp"));
        fs::write(&young, b"partial").expect("write");
        fs::write(&old, b"partial").expect("write");
        age(&old, 7200);
        assert_eq!(gc_counts(&s, 3600), (0, 0, 1));
        assert!(young.exists() && !old.exists());
    }
    #[test]
    fn other_function_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(open(dir.path()));
        let again = FsStore::open(dir.path(), DigestFunction::Blake3, Params::reapi(1024, 0).expect("valid"));
        assert!(matches!(again, Err(Error::BadIndex { .. })));
    }
}
