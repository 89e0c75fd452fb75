//! Exact rate limiting (work in progress).
