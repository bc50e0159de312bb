//! The data directory: where a node keeps its key, its store and (optionally) its config.
//!
//! ```text
//! <data dir>/            created 0700
//!   node.key             the node's ed25519 seed, 64 hex characters; 0600, refused if wider
//!   store/               the sled database (crate::store)
//!   config.toml          optional; read when no --config is given
//! ```
//! The default location is `$FLOTILLA_DATA_DIR`, else `$XDG_DATA_HOME/flotilla`, else
//! `~/.local/share/flotilla`.
//!
//! With `--key-passphrase-file`, `node.key` is sealed under the passphrase ([`sealed`]); a
//! plain key found at start is sealed in place. Users' secret keys live in the store,
//! encrypted under a key derived from the node key (`crate::users`).

use std::ffi::OsString;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use flotilla_protocol as proto;
use proto::SecretKey;
use zeroize::Zeroizing;

pub mod sealed;

/// The node key's file name.
pub const KEY_FILE: &str = "node.key";
/// The store's directory name.
pub const STORE_DIR: &str = "store";
/// The optional config file's name.
pub const CONFIG_FILE: &str = "config.toml";

/// A data directory or key problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No data directory given and neither `$XDG_DATA_HOME` nor `$HOME` is set.
    #[error("no data directory: pass --data-dir or set FLOTILLA_DATA_DIR (HOME is not set)")]
    NoDefault,
    /// A file system operation failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// Why it failed.
        source: io::Error,
    },
    /// The key file can be read by other users.
    #[error(
        "{} is readable by other users (mode {mode:o}); fix it with `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    InsecureKey {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file does not hold a key.
    #[error("{} is not a flotilla node key (expected 64 hex characters)", path.display())]
    MalformedKey {
        /// The key file.
        path: PathBuf,
    },
    /// The operating system's random number generator failed.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
    /// The key file is sealed and no passphrase was given.
    #[error("{} is protected by a passphrase: start with --key-passphrase-file FILE", path.display())]
    Locked {
        /// The key file.
        path: PathBuf,
    },
    /// The passphrase does not open the key file.
    #[error("the passphrase does not open {}", path.display())]
    WrongPassphrase {
        /// The key file.
        path: PathBuf,
    },
    /// The passphrase file is unusable, or key derivation failed.
    #[error("passphrase: {0}")]
    Passphrase(String),
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
    move |source| Error::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// The default data directory, from the environment.
///
/// # Errors
/// [`Error::NoDefault`] when none of the variables is set.
pub fn default_path() -> Result<PathBuf, Error> {
    default_path_from(|name| std::env::var_os(name))
}

/// [`default_path`] with the environment passed in (tests).
pub(crate) fn default_path_from(env: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, Error> {
    let set = |name| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("FLOTILLA_DATA_DIR") {
        return Ok(dir);
    }
    if let Some(xdg) = set("XDG_DATA_HOME") {
        return Ok(xdg.join("flotilla"));
    }
    set("HOME")
        .map(|home| home.join(".local/share/flotilla"))
        .ok_or(Error::NoDefault)
}

/// An opened data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Opens `root`, creating it (mode 0700) if needed.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be created.
    pub fn open(root: &Path) -> Result<Self, Error> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(io_err("cannot create data directory", root))?;
        Ok(DataDir {
            root: root.to_path_buf(),
        })
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Where the node key lives.
    pub fn key_path(&self) -> PathBuf {
        self.root.join(KEY_FILE)
    }

    /// Where the sled store lives.
    pub fn store_path(&self) -> PathBuf {
        self.root.join(STORE_DIR)
    }

    /// Where the optional config file lives.
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// Loads the node key, creating it on first start.
    ///
    /// # Errors
    /// [`Error::InsecureKey`] if the file is group or world readable, [`Error::MalformedKey`]
    /// if it holds no key, [`Error::Io`] or [`Error::Random`] if it cannot be created.
    pub fn node_key(&self) -> Result<SecretKey, Error> {
        self.node_key_with(None)
    }

    /// Loads the node key, opening it with `passphrase` if it is sealed; creates it on first
    /// start (sealed if a passphrase is given), and seals a plain key found with a passphrase.
    ///
    /// # Errors
    /// As [`DataDir::node_key`]; [`Error::Locked`] for a sealed key without a passphrase,
    /// [`Error::WrongPassphrase`].
    pub fn node_key_with(&self, passphrase: Option<&[u8]>) -> Result<SecretKey, Error> {
        let path = self.key_path();
        match fs::metadata(&path) {
            Ok(meta) => read_key(&path, meta.permissions().mode(), passphrase),
            Err(e) if e.kind() == io::ErrorKind::NotFound => create_key(&path, passphrase),
            Err(e) => Err(io_err("cannot read", &path)(e)),
        }
    }
}

fn read_key(path: &Path, mode: u32, passphrase: Option<&[u8]>) -> Result<SecretKey, Error> {
    if mode & 0o077 != 0 {
        return Err(Error::InsecureKey {
            path: path.to_path_buf(),
            mode: mode & 0o777,
        });
    }
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|_| Error::MalformedKey {
        path: path.to_path_buf(),
    })?);
    if sealed::is_sealed(&text) {
        let pass = passphrase.ok_or_else(|| Error::Locked {
            path: path.to_path_buf(),
        })?;
        let seed = sealed::open(&text, pass, path)?;
        return Ok(SecretKey::from_bytes(&seed));
    }
    let seed = Zeroizing::new(proto::id::from_hex::<32>(text.trim()).map_err(|_| {
        Error::MalformedKey {
            path: path.to_path_buf(),
        }
    })?);
    if let Some(pass) = passphrase {
        write_key_file(path, &sealed::seal(&seed, pass)?)?;
        tracing::info!(path = %path.display(), "sealed the node key with the passphrase");
    }
    Ok(SecretKey::from_bytes(&seed))
}

/// Makes a fresh key and writes it (sealed if a passphrase is given).
fn create_key(path: &Path, passphrase: Option<&[u8]>) -> Result<SecretKey, Error> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|e| Error::Random(e.to_string()))?;
    let key = SecretKey::from_bytes(&seed);
    let text = Zeroizing::new(match passphrase {
        Some(pass) => sealed::seal(&seed, pass)?,
        None => proto::id::to_hex(seed.as_ref()),
    });
    write_key_file(path, &text)?;
    tracing::info!(path = %path.display(), node = %key.public().fmt_short(), "created node key");
    Ok(key)
}

/// Writes a key file's text to a temporary file created 0600 (never wider, even for an
/// instant), syncs it, then renames it into place: a crash leaves the old file or the new.
fn write_key_file(path: &Path, text: &str) -> Result<(), Error> {
    let tmp = path.with_extension("key.tmp");
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(io_err("cannot remove", &tmp)(e));
        }
        _ => {}
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err("cannot create", &tmp))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(io_err("cannot write", &tmp))?;
    fs::rename(&tmp, path).map_err(io_err("cannot rename into", path))?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("cannot sync", dir))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_path_prefers_flotilla_then_xdg_then_home() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        static ALL: [(&str, &str); 3] = [
            ("FLOTILLA_DATA_DIR", "/f"),
            ("XDG_DATA_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(default_path_from(env(&ALL)).unwrap(), PathBuf::from("/f"));
        assert_eq!(
            default_path_from(env(&ALL[1..])).unwrap(),
            PathBuf::from("/x/flotilla")
        );
        assert_eq!(
            default_path_from(env(&ALL[2..])).unwrap(),
            PathBuf::from("/h/.local/share/flotilla")
        );
        assert_eq!(
            default_path_from(env(&[("XDG_DATA_HOME", ""), ("HOME", "/h")])).unwrap(),
            PathBuf::from("/h/.local/share/flotilla")
        );
        assert!(matches!(default_path_from(env(&[])), Err(Error::NoDefault)));
    }

    #[test]
    fn key_is_created_0600_and_stable_across_opens() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(&tmp.path().join("data")).unwrap();
        assert_eq!(
            fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let first = dir.node_key().unwrap();
        assert_eq!(
            fs::metadata(dir.key_path()).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(dir.node_key().unwrap().public(), first.public());
        assert!(!dir.key_path().with_extension("key.tmp").exists());
    }

    #[test]
    fn readable_or_malformed_key_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        dir.node_key().unwrap();
        fs::set_permissions(dir.key_path(), fs::Permissions::from_mode(0o640)).unwrap();
        let err = dir.node_key().unwrap_err();
        assert!(
            matches!(err, Error::InsecureKey { mode: 0o640, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"));
        fs::set_permissions(dir.key_path(), fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(dir.key_path(), "not a key\n").unwrap();
        assert!(matches!(dir.node_key(), Err(Error::MalformedKey { .. })));
    }

    #[test]
    fn a_passphrase_seals_the_key_and_is_then_required() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        let plain = dir.node_key().unwrap();
        let seed_hex = fs::read_to_string(dir.key_path()).unwrap();
        let sealed = dir.node_key_with(Some(b"grand largue")).unwrap();
        assert_eq!(
            sealed.public(),
            plain.public(),
            "a plain key is sealed in place"
        );
        let text = fs::read_to_string(dir.key_path()).unwrap();
        assert!(sealed::is_sealed(&text) && !text.contains(seed_hex.trim()));
        assert_eq!(
            fs::metadata(dir.key_path()).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(matches!(dir.node_key(), Err(Error::Locked { .. })));
        assert!(matches!(
            dir.node_key_with(Some(b"wrong")),
            Err(Error::WrongPassphrase { .. })
        ));
        let again = dir.node_key_with(Some(b"grand largue")).unwrap();
        assert_eq!(again.public(), plain.public());

        let fresh = DataDir::open(&tmp.path().join("fresh")).unwrap();
        let made = fresh.node_key_with(Some(b"pass")).unwrap();
        assert!(sealed::is_sealed(
            &fs::read_to_string(fresh.key_path()).unwrap()
        ));
        assert_eq!(
            fresh.node_key_with(Some(b"pass")).unwrap().public(),
            made.public()
        );
    }
}
