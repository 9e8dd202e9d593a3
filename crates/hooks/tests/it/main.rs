//! Integration tests of `agentry-hooks`: the payload corpus through the real binary, the gates, checkpoints and
//! rollback end to end, the command line, and property tests.

mod cli;
mod corpus;
mod fixture;
mod gates;
mod props;
