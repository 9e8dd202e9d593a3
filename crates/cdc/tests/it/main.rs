//! Integration tests of agentry-cdc, one module per area.

#[cfg(feature = "cli")]
mod cli;
mod digest;
mod plan;
mod props;
mod stream;
mod vectors;
