//! wire: being written.
