//! sim: being written.
