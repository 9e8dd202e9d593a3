//! Integration tests of agentry-ingest, one binary with a module per area.

mod columns;
