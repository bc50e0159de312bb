//! sync: being written.
