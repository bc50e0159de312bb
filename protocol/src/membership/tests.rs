//! Tests of the membership rules: written next.
