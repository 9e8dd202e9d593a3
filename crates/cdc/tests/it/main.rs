//! Integration tests of agentry-cdc, one module per area.

#[cfg(feature = "cli")]
mod cli;
mod plan;
mod props;
mod vectors;
