//! `node.key` protected by a passphrase (`--key-passphrase-file`), for boats whose laptop may
//! be stolen and that still start unattended (the passphrase file lives elsewhere: a USB key,
//! a root-only path).
//!
//! The sealed file is one line: `flotilla-sealed-key-v1 <salt> <nonce> <ciphertext>` (hex):
//! the seed encrypted with XChaCha20-Poly1305 under a key derived from the passphrase with
//! argon2id (default parameters: 19 MiB, 2 passes), the file's purpose as associated data.
//! The user keys in the store are encrypted under a key derived from the node key, so they
//! are protected too.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use flotilla_protocol as proto;
use proto::crypto::SymmetricKey;
use zeroize::Zeroizing;

use super::Error;

/// The first word of a sealed key file.
pub const SEALED_PREFIX: &str = "flotilla-sealed-key-v1";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const AAD: &[u8] = b"flotilla/v1 node key";
/// Longest passphrase file read, in bytes.
pub const MAX_PASSPHRASE_BYTES: usize = 1024;

fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| Error::Random(e.to_string()))?;
    Ok(out)
}

fn derive(passphrase: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, Error> {
    let mut out = Zeroizing::new([0u8; 32]);
    argon2::Argon2::default()
        .hash_password_into(passphrase, salt, out.as_mut())
        .map_err(|e| Error::Passphrase(e.to_string()))?;
    Ok(out)
}

/// The sealed form of `seed` (one line, no newline).
///
/// # Errors
/// [`Error::Random`], [`Error::Passphrase`].
pub fn seal(seed: &[u8; 32], passphrase: &[u8]) -> Result<String, Error> {
    let salt: [u8; SALT_LEN] = random()?;
    let nonce: [u8; NONCE_LEN] = random()?;
    let key = SymmetricKey(*derive(passphrase, &salt)?);
    let ct = key
        .encrypt(&nonce, seed, AAD)
        .map_err(|e| Error::Passphrase(e.to_string()))?;
    Ok(format!(
        "{SEALED_PREFIX} {} {} {}",
        proto::id::to_hex(&salt),
        proto::id::to_hex(&nonce),
        proto::id::to_hex(&ct)
    ))
}

/// Is this key file's text sealed?
pub fn is_sealed(text: &str) -> bool {
    text.trim_start().starts_with(SEALED_PREFIX)
}

/// Opens a sealed key file's text.
///
/// # Errors
/// [`Error::MalformedKey`], [`Error::WrongPassphrase`].
pub fn open(text: &str, passphrase: &[u8], path: &Path) -> Result<Zeroizing<[u8; 32]>, Error> {
    let malformed = || Error::MalformedKey {
        path: path.to_path_buf(),
    };
    let mut words = text.split_whitespace();
    if words.next() != Some(SEALED_PREFIX) {
        return Err(malformed());
    }
    let salt =
        proto::id::from_hex::<SALT_LEN>(words.next().unwrap_or("")).map_err(|_| malformed())?;
    let nonce =
        proto::id::from_hex::<NONCE_LEN>(words.next().unwrap_or("")).map_err(|_| malformed())?;
    let ct = hex_bytes(words.next().unwrap_or("")).ok_or_else(malformed)?;
    let key = SymmetricKey(*derive(passphrase, &salt)?);
    let seed =
        Zeroizing::new(
            key.decrypt(&nonce, &ct, AAD)
                .map_err(|_| Error::WrongPassphrase {
                    path: path.to_path_buf(),
                })?,
        );
    let seed: [u8; 32] = seed.as_slice().try_into().map_err(|_| malformed())?;
    Ok(Zeroizing::new(seed))
}

fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Reads a passphrase file: its first line, which must not be empty; the file must not be
/// readable by group or others (like `node.key`).
///
/// # Errors
/// [`Error::Io`], [`Error::InsecureKey`], [`Error::Passphrase`].
pub fn read_passphrase(path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    let meta = fs::metadata(path).map_err(super::io_err("cannot read", path))?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(Error::InsecureKey {
            path: path.to_path_buf(),
            mode: mode & 0o777,
        });
    }
    if meta.len() > MAX_PASSPHRASE_BYTES as u64 {
        return Err(Error::Passphrase(format!(
            "{} is longer than {MAX_PASSPHRASE_BYTES} bytes",
            path.display()
        )));
    }
    let bytes = Zeroizing::new(fs::read(path).map_err(super::io_err("cannot read", path))?);
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Err(Error::Passphrase(format!(
            "{} holds no passphrase on its first line",
            path.display()
        )));
    }
    Ok(Zeroizing::new(line.to_vec()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_seed_opens_only_with_its_passphrase() {
        let seed = [7u8; 32];
        let text = seal(&seed, b"grand largue").unwrap();
        assert!(is_sealed(&text) && !text.contains(&proto::id::to_hex(&seed)));
        let path = Path::new("node.key");
        assert_eq!(*open(&text, b"grand largue", path).unwrap(), seed);
        assert!(matches!(
            open(&text, b"petit largue", path),
            Err(Error::WrongPassphrase { .. })
        ));
        assert!(matches!(
            open("flotilla-sealed-key-v1 zz", b"x", path),
            Err(Error::MalformedKey { .. })
        ));
        assert_ne!(
            seal(&seed, b"grand largue").unwrap(),
            text,
            "fresh salt and nonce"
        );
    }
}
