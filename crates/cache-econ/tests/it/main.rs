//! Integration tests of `agentry-cache-econ`: golden figures, the analyzer on hand-built transcripts, the
//! command line, and property tests.

mod analyze;
mod cli;
mod golden;
#[cfg(feature = "plot")]
mod plot;
mod props;
mod reports;
