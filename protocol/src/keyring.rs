//! keyring: being written.
