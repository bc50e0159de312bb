//! author: being written.
