//! fold: being written.
