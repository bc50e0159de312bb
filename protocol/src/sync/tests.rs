//! Unit tests of ingest and reconciliation.
