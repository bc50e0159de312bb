//! The encrypted chunk store and the blob records, on disk.
//!
//! ```text
//! files/chunks/<chunk hash hex>   one encrypted chunk (mode 0600), shared by every blob
//!                                 that lists it (stored once)
//! files/blobs/<blob id hex>       postcard BlobRecord: flotilla, sizes, chunk hashes, when
//! ```
//! A blob's "have" set is which of its chunk files exist, so a download resumes after a
//! restart from what reached the disk. Writes go to a temporary name and are renamed into
//! place: a crash never leaves a half chunk under a real name. Blocking calls (small files,
//! sub-millisecond); the actor makes them.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use flotilla_protocol as proto;
use proto::chunks::{ChunkSet, blob_id};
use proto::id::FlotillaId;
use serde::{Deserialize, Serialize};

use crate::Error;

/// A blob id (see [`blob_id`]).
pub type BlobId = [u8; 32];

/// The most blob records read at start (a bound on a hostile or corrupted directory).
pub const MAX_BLOBS: usize = 100_000;

/// What a node knows of one blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRecord {
    /// The flotilla it was advertised in (served only to that flotilla's members).
    pub flotilla: FlotillaId,
    /// Plaintext chunk size (each encrypted chunk is this plus the AEAD tag; the last one
    /// is shorter).
    pub chunk_size: u32,
    /// Plaintext file size.
    pub size: u64,
    /// BLAKE3 of each encrypted chunk.
    pub chunks: Vec<[u8; 32]>,
    /// When this node learnt of it (ms since the Unix epoch): eviction order.
    pub added_ms: u64,
}

impl BlobRecord {
    /// Its id.
    pub fn id(&self) -> BlobId {
        blob_id(self.chunk_size, self.size, &self.chunks)
    }

    /// The number of chunks.
    pub fn len(&self) -> u32 {
        u32::try_from(self.chunks.len()).unwrap_or(u32::MAX)
    }

    /// No chunk (an empty file)?
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Encrypted bytes of chunk `i` when complete.
    pub fn chunk_len(&self, i: u32) -> u64 {
        let start = u64::from(i) * u64::from(self.chunk_size);
        let plain = self
            .size
            .saturating_sub(start)
            .min(u64::from(self.chunk_size));
        plain + super::crypt::TAG_BYTES as u64
    }

    /// Encrypted bytes of the whole blob.
    pub fn stored_len(&self) -> u64 {
        self.size + self.chunks.len() as u64 * super::crypt::TAG_BYTES as u64
    }
}

/// The chunk and blob directories.
#[derive(Debug, Clone)]
pub struct BlobStore {
    chunks: PathBuf,
    blobs: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl BlobStore {
    /// The store under the files directory `dir` (created on first write).
    pub fn new(dir: &Path) -> Self {
        BlobStore {
            chunks: dir.join("chunks"),
            blobs: dir.join("blobs"),
        }
    }

    fn chunk_path(&self, hash: &[u8; 32]) -> PathBuf {
        self.chunks.join(hex(hash))
    }

    /// Has the chunk?
    pub fn has_chunk(&self, hash: &[u8; 32]) -> bool {
        self.chunk_path(hash).is_file()
    }

    /// The chunk's bytes, if held.
    pub fn chunk(&self, hash: &[u8; 32]) -> Option<Vec<u8>> {
        std::fs::read(self.chunk_path(hash)).ok()
    }

    /// Stores a chunk whose hash the caller checked.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn put_chunk(&self, hash: &[u8; 32], bytes: &[u8]) -> Result<(), Error> {
        let path = self.chunk_path(hash);
        if path.is_file() {
            return Ok(());
        }
        write_atomic(&self.chunks, &path, bytes)
    }

    /// Removes a chunk (eviction).
    pub fn remove_chunk(&self, hash: &[u8; 32]) {
        let _ = std::fs::remove_file(self.chunk_path(hash)); // already gone is fine
    }

    /// Which chunks of `record` are on disk.
    pub fn have(&self, record: &BlobRecord) -> ChunkSet {
        let mut set = ChunkSet::empty(record.len());
        for (i, h) in record.chunks.iter().enumerate() {
            if self.has_chunk(h) {
                set.insert(u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
        set
    }

    /// Saves a blob record.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn put_record(&self, record: &BlobRecord) -> Result<(), Error> {
        let path = self.blobs.join(hex(&record.id()));
        if path.is_file() {
            return Ok(());
        }
        let bytes = postcard::to_stdvec(record).map_err(|e| Error::Invalid {
            what: "blob record",
            reason: e.to_string(),
        })?;
        write_atomic(&self.blobs, &path, &bytes)
    }

    /// Forgets a blob record (its chunks stay unless removed one by one).
    pub fn remove_record(&self, id: &BlobId) {
        let _ = std::fs::remove_file(self.blobs.join(hex(id))); // already gone is fine
    }

    /// Every readable blob record (unreadable ones are skipped with a log line).
    pub fn records(&self) -> Vec<BlobRecord> {
        let Ok(dir) = std::fs::read_dir(&self.blobs) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in dir.flatten().take(MAX_BLOBS) {
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            match postcard::from_bytes::<BlobRecord>(&bytes) {
                Ok(r) if hex(&r.id()) == entry.file_name().to_string_lossy() => out.push(r),
                _ => {
                    tracing::warn!(path = %entry.path().display(), "unreadable blob record skipped")
                }
            }
        }
        out
    }
}

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(dir))?;
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp); // best effort
        return Err(io_err(path)(e));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn records_and_chunks_survive_a_reopen_and_give_the_have_set() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::new(tmp.path());
        let chunks = vec![[1u8; 32], [2u8; 32], [3u8; 32]];
        let record = BlobRecord {
            flotilla: FlotillaId([5; 16]),
            chunk_size: 4,
            size: 10,
            chunks: chunks.clone(),
            added_ms: 1,
        };
        store.put_record(&record).unwrap();
        store.put_chunk(&chunks[1], b"xx").unwrap();
        let again = BlobStore::new(tmp.path());
        assert_eq!(again.records(), vec![record.clone()]);
        let have = again.have(&record);
        assert_eq!((have.count(), have.contains(1)), (1, true));
        assert_eq!(record.chunk_len(2), 2 + 16);
        assert_eq!(record.stored_len(), 10 + 48);
        std::fs::write(tmp.path().join("blobs").join("junk"), b"zz").unwrap();
        assert_eq!(again.records().len(), 1, "junk skipped");
    }
}
