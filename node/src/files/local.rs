//! Plaintext attachments on disk: `files/<blake3 hex>` in the data directory,
//! content-addressed, written to a temporary file (mode 0600) and renamed into place, so a
//! crash never leaves a half file under a real name. Also the manifest numbers (chunk size
//! and the hashes of the encrypted chunks) published with [`proto::Content::FileManifest`].
//!
//! These are blocking calls: the handle runs them in `spawn_blocking`, never on the actor.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use flotilla_protocol as proto;
use proto::event::MAX_NAME_CHARS;
use proto::id::{FileId, FlotillaId};

use crate::Error;
use crate::handle::views::FileInfo;

/// The name of the files directory inside the data directory.
pub const FILES_DIR: &str = "files";
/// The smallest chunk a manifest describes.
pub const MIN_CHUNK_BYTES: u64 = 256 * 1024;
/// The most chunks in one manifest (32 bytes each: the manifest stays far below the event
/// size limit); larger files get larger chunks.
pub const MAX_MANIFEST_CHUNKS: u64 = 1024;

/// Where attachments go, how large they may be per flotilla, and what is fetched unasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attachments {
    /// The link profile (the fetch policy depends on it).
    pub(crate) profile: crate::config::LinkProfile,
    /// On `halow`, files up to this size are fetched automatically.
    pub(crate) auto_fetch_max_bytes: u64,
    /// Encrypted chunks kept per flotilla before the oldest are evicted.
    pub(crate) budget_bytes: u64,
    /// The files directory.
    pub(crate) dir: PathBuf,
    /// The limit for flotillas without an override.
    pub(crate) default_limit: u64,
    /// Per-flotilla limits.
    pub(crate) limits: BTreeMap<FlotillaId, u64>,
}

impl Attachments {
    /// The attachment limit of `flotilla`.
    pub(crate) fn limit(&self, flotilla: &FlotillaId) -> u64 {
        self.limits
            .get(flotilla)
            .copied()
            .unwrap_or(self.default_limit)
    }
}

/// A file written to the files directory, with what its manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Id, name, size, MIME type.
    pub info: FileInfo,
    /// Chunk size in bytes.
    pub chunk_size: u32,
    /// BLAKE3 of each encrypted chunk, in order.
    pub chunks: Vec<[u8; 32]>,
    /// The key id the chunks were encrypted under (set by the caller of [`store`]).
    pub key_id: proto::id::EventId,
}

impl StoredFile {
    /// The manifest to publish.
    pub fn manifest(&self) -> proto::Content {
        proto::Content::FileManifest {
            file: self.info.id,
            name: self.info.name.clone(),
            size: self.info.size,
            mime: self.info.mime.clone(),
            chunk_size: self.chunk_size,
            chunks: self.chunks.clone(),
        }
    }
}

/// Checks a file name (1–64 characters, no `/`, no control characters) and a MIME type
/// (1–64 printable ASCII characters, `type/subtype`).
///
/// # Errors
/// [`Error::Invalid`] naming the field.
pub fn check_meta(name: &str, mime: &str) -> Result<(), Error> {
    let name_ok = !name.trim().is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && !name.chars().any(|c| c.is_control() || c == '/');
    if !name_ok {
        return Err(Error::Invalid {
            what: "file name",
            reason: format!("1 to {MAX_NAME_CHARS} characters, no `/`"),
        });
    }
    let mime_ok = mime.len() <= MAX_NAME_CHARS
        && mime.contains('/')
        && mime.bytes().all(|b| b.is_ascii_graphic());
    if !mime_ok {
        return Err(Error::Invalid {
            what: "mime type",
            reason: format!("`{mime}` is not like text/plain"),
        });
    }
    Ok(())
}

/// Where the bytes of `id` live.
pub fn path_of(dir: &Path, id: &FileId) -> PathBuf {
    dir.join(id.to_string())
}

/// The chunk size for a file of `size` bytes.
pub fn chunk_size_for(size: u64) -> u64 {
    size.div_ceil(MAX_MANIFEST_CHUNKS).max(MIN_CHUNK_BYTES)
}

/// Hashes `bytes`, writes them to `dir` (created 0700 if missing) unless a file with the
/// same content is there already, and writes their chunks encrypted with `files_key` (the
/// channel's files key, [`super::crypt::channel_files_key`]) to `dir/chunks/`.
///
/// # Errors
/// [`Error::Io`] if the directory or file cannot be written, [`Error::TooLarge`] for a file
/// whose chunks do not fit a manifest.
pub fn store(
    dir: &Path,
    bytes: &[u8],
    name: String,
    mime: String,
    files_key: &proto::crypto::SymmetricKey,
) -> Result<StoredFile, Error> {
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    let chunk_size = chunk_size_for(size);
    let chunk_u32 = u32::try_from(chunk_size).map_err(|_| Error::TooLarge {
        limit: u64::from(u32::MAX) * MAX_MANIFEST_CHUNKS,
    })?;
    let id = FileId(*blake3::hash(bytes).as_bytes());
    let key = super::crypt::file_key(files_key, &id);
    let blobs = super::blobs::BlobStore::new(dir);
    let mut chunks = Vec::new();
    for (i, plain) in bytes.chunks(chunk_u32 as usize).enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        let sealed = super::crypt::seal_chunk(&key, &id, index, plain);
        let hash = *blake3::hash(&sealed).as_bytes();
        blobs.put_chunk(&hash, &sealed)?;
        chunks.push(hash);
    }
    write_once(dir, &id, bytes)?;
    Ok(StoredFile {
        info: FileInfo {
            id,
            name,
            size,
            mime,
            state: super::FileState::default(),
        },
        chunk_size: chunk_u32,
        chunks,
        key_id: proto::id::EventId([0; 32]),
    })
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(super) fn write_once(dir: &Path, id: &FileId, bytes: &[u8]) -> Result<(), Error> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(dir))?;
    let path = path_of(dir, id);
    if path.exists() {
        return Ok(()); // same bytes, same name
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(".{id}.{}.{nanos}.tmp", std::process::id()));
    let written = write_new(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp); // best effort: it may not exist
        return Err(io_err(&path)(e));
    }
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn stores_by_content_hash_with_mode_0600_and_no_temp_left() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(FILES_DIR);
        let bytes = vec![7u8; 600 * 1024];
        let key = proto::crypto::SymmetricKey([9; 32]);
        let f = store(
            &dir,
            &bytes,
            "a.bin".into(),
            "application/octet-stream".into(),
            &key,
        )
        .unwrap();
        assert_eq!(f.info.id, FileId(*blake3::hash(&bytes).as_bytes()));
        assert_eq!((f.info.size, f.chunks.len()), (600 * 1024, 3));
        let path = path_of(&dir, &f.info.id);
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = store(&dir, &bytes, "b.bin".into(), "x/y".into(), &key).unwrap();
        assert_eq!(again.info.id, f.info.id);
        assert_eq!(again.chunks, f.chunks, "same file, same encrypted chunks");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            2,
            "the file and chunks/, no temp file left"
        );
        assert_eq!(std::fs::read_dir(dir.join("chunks")).unwrap().count(), 3);
        for entry in std::fs::read_dir(dir.join("chunks")).unwrap() {
            let chunk = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !chunk.windows(64).any(|w| w == &bytes[..64]),
                "no plaintext"
            );
        }
        assert!(f.manifest().check().is_ok());
    }

    #[test]
    fn chunk_sizes_keep_manifests_small() {
        assert_eq!(chunk_size_for(0), MIN_CHUNK_BYTES);
        let big = 1 << 30;
        assert!(big / chunk_size_for(big) <= MAX_MANIFEST_CHUNKS);
    }

    #[test]
    fn bad_names_and_mime_types_are_invalid() {
        assert!(check_meta("plan.pdf", "application/pdf").is_ok());
        for (name, mime) in [("", "a/b"), ("a/b", "a/b"), ("x", "pdf"), ("x", "a/b c")] {
            assert!(
                matches!(check_meta(name, mime), Err(Error::Invalid { .. })),
                "{name} {mime}"
            );
        }
    }
}
