#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::print_stdout)]

mod digest;
mod error;
mod hex;
mod ids;
mod money;
mod time;
mod tokens;

pub use crate::{
    digest::{Digest, DigestFunction},
    error::ParseError,
    hex::{decode_hex32, encode_hex},
    ids::{ChunkId, DocumentId, ModelId},
    money::Usd,
    time::Timestamp,
    tokens::TokenCount,
};
