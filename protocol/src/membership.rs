//! membership: being written.
