//! Integration tests of agentry-cdc, one module per area.

mod props;
mod vectors;
