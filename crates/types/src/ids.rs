use std::{fmt, str::FromStr};

use crate::{
    error::ParseError,
    hex::{decode_hex32, encode_hex},
};

const MAX_ID_LEN: usize = 4096;

fn check_id(what: &'static str, text: &str, allow_space: bool) -> Result<(), ParseError> {
    let bad = |reason| Err(ParseError::Id { what, text: text.to_owned(), reason });
    if text.is_empty() {
        return bad("empty");
    }
    if text.len() > MAX_ID_LEN {
        return bad("longer than 4096 bytes");
    }
    if text.chars().any(|c| c.is_control() || (!allow_space && c.is_whitespace())) {
        return bad(if allow_space { "contains a control character" } else { "contains whitespace" });
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $what:literal, allow_space = $space:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps an id.
            pub fn new(text: impl Into<String>) -> Result<Self, ParseError> {
                let text = text.into();
                check_id($what, &text, $space)?;
                Ok(Self(text))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::new(text).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_id!(
    /// A model id exactly as the provider spells it (`claude-opus-4-7`, `gpt-5`, `gemini-2.5-pro`).
    /// Non-empty, no whitespace or control characters.
    ModelId, "model id", allow_space = false
);

string_id!(
    /// A document's id: its path relative to the indexed folder, with `/` separators (`src/ch01-00.md`).
    /// Non-empty, no control characters; spaces are allowed since file names have them.
    DocumentId, "document id", allow_space = true
);

/// A chunk's content identity: the SHA-256 of its normalized text (and of the metadata that changes its
/// embedding). Positions never enter it, so an unchanged paragraph keeps its id wherever it moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkId([u8; 32]);

impl ChunkId {
    /// Wraps the 32 bytes of a SHA-256 hash.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The hash bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for ChunkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_hex(&self.0))
    }
}

impl FromStr for ChunkId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        decode_hex32(s).map(Self)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for ChunkId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for ChunkId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_model(text: &str, ok: bool) {
        assert_eq!(text.parse::<ModelId>().is_ok(), ok, "{text:?}");
    }
    fn check_doc(text: &str, ok: bool) {
        assert_eq!(text.parse::<DocumentId>().is_ok(), ok, "{text:?}");
    }

    #[test]
    fn model_ids() {
        check_model("claude-opus-4-7", true);
        check_model("anthropic.claude-3-haiku-20240307-v1:0", true);
        check_model("", false);
        check_model("claude opus", false);
        check_model("a\u{0}b", false);
        check_model(&"x".repeat(5000), false);
    }
    #[test]
    fn document_ids() {
        check_doc("src/ch01-00-getting-started.md", true);
        check_doc("notes/my file.md", true);
        check_doc("", false);
        check_doc("a\nb", false);
    }
    #[test]
    fn chunk_id_round_trip() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(hex.parse::<ChunkId>().unwrap().to_string(), hex);
        assert!("xyz".parse::<ChunkId>().is_err());
    }
    #[test]
    fn error_names_kind_and_text() {
        let err = "a b".parse::<ModelId>().unwrap_err().to_string();
        assert!(err.contains("model id") && err.contains("\"a b\""), "{err}");
    }
}
