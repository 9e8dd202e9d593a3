#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::print_stdout)]

// The document-ingest modules (issue: registry, pipeline, retrieval) go here.
mod columns;
