use std::{fmt, str::FromStr};

use crate::{
    error::ParseError,
    hex::{decode_hex32, encode_hex},
};

/// The hash function behind a [`Digest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum DigestFunction {
    /// SHA-256, the Remote Execution API's default.
    #[default]
    Sha256,
    /// BLAKE3 with a 32-byte output.
    Blake3,
}

impl DigestFunction {
    /// The lowercase name used in REAPI resource names (`sha256`, `blake3`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Blake3 => "blake3",
        }
    }
}

impl fmt::Display for DigestFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DigestFunction {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let is = |name: &str| s.eq_ignore_ascii_case(name);
        if is("sha256") || is("sha-256") {
            Ok(Self::Sha256)
        } else if is("blake3") {
            Ok(Self::Blake3)
        } else {
            Err(ParseError::DigestFunction { text: s.to_owned() })
        }
    }
}

/// A content digest as the Remote Execution API defines it: a hash function, the hash of the blob and its size.
///
/// The text form is REAPI's `hash/size` for SHA-256 and `blake3/hash/size` for BLAKE3 (the digest function
/// component of a ByteStream resource name). Parsing also accepts an explicit `sha256/` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    function: DigestFunction,
    hash: [u8; 32],
    size_bytes: u64,
}

impl Digest {
    /// Makes a digest from its parts; the caller computed `hash` with `function` over `size_bytes` bytes.
    pub const fn new(function: DigestFunction, hash: [u8; 32], size_bytes: u64) -> Self {
        Self { function, hash, size_bytes }
    }

    /// Parses a lowercase or uppercase hex hash and a size into a digest.
    pub fn from_hex(function: DigestFunction, hash_hex: &str, size_bytes: u64) -> Result<Self, ParseError> {
        Ok(Self::new(function, decode_hex32(hash_hex)?, size_bytes))
    }

    /// The hash function.
    pub const fn function(&self) -> DigestFunction {
        self.function
    }

    /// The 32 hash bytes.
    pub const fn hash(&self) -> &[u8; 32] {
        &self.hash
    }

    /// The hash as 64 lowercase hex digits.
    pub fn hash_hex(&self) -> String {
        encode_hex(&self.hash)
    }

    /// The size of the blob in bytes.
    pub const fn size_bytes(&self) -> u64 {
        self.size_bytes
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.function != DigestFunction::Sha256 {
            write!(f, "{}/", self.function)?;
        }
        write!(f, "{}/{}", encode_hex(&self.hash), self.size_bytes)
    }
}

impl FromStr for Digest {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason| ParseError::Digest { text: s.to_owned(), reason };
        let shape = || bad("expected hash/size or function/hash/size");
        let (head, size) = s.rsplit_once('/').ok_or_else(shape)?;
        let (function, hash) = match head.split_once('/') {
            None => (DigestFunction::Sha256, head),
            Some((_, rest)) if rest.contains('/') => return Err(shape()),
            Some((function, hash)) => (function.parse()?, hash),
        };
        if size.is_empty() || !size.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad("size is not a non-negative decimal integer"));
        }
        let size_bytes = size.parse::<u64>().map_err(|_| bad("size does not fit in 64 bits"))?;
        Self::from_hex(function, hash, size_bytes)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for DigestFunction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for DigestFunction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn check(text: &str, expected: Result<&str, ()>) {
        let parsed = text.parse::<Digest>();
        match (parsed, expected) {
            (Ok(d), Ok(display)) => assert_eq!(d.to_string(), display),
            (Err(_), Err(())) => {}
            (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn reapi_form() {
        check(&format!("{EMPTY}/0"), Ok(&format!("{EMPTY}/0")));
    }
    #[test]
    fn explicit_sha256_is_normalized() {
        check(&format!("sha256/{EMPTY}/7"), Ok(&format!("{EMPTY}/7")));
    }
    #[test]
    fn blake3_keeps_prefix() {
        check(&format!("blake3/{EMPTY}/7"), Ok(&format!("blake3/{EMPTY}/7")));
    }
    #[test]
    fn uppercase_hash_is_lowercased() {
        check(&format!("{}/1", EMPTY.to_uppercase()), Ok(&format!("{EMPTY}/1")));
    }
    #[test]
    fn unknown_function() {
        check(&format!("md5/{EMPTY}/7"), Err(()));
    }
    #[test]
    fn negative_size() {
        check(&format!("{EMPTY}/-1"), Err(()));
    }
    #[test]
    fn plus_size() {
        check(&format!("{EMPTY}/+1"), Err(()));
    }
    #[test]
    fn huge_size() {
        check(&format!("{EMPTY}/18446744073709551616"), Err(()));
    }
    #[test]
    fn missing_size() {
        check(EMPTY, Err(()));
    }
    #[test]
    fn empty_size() {
        check(&format!("{EMPTY}/"), Err(()));
    }
    #[test]
    fn too_many_parts() {
        check(&format!("a/sha256/{EMPTY}/1"), Err(()));
    }
    #[test]
    fn short_hash() {
        check("abcd/1", Err(()));
    }
    #[test]
    fn error_names_the_text() {
        let err = "abc".parse::<Digest>().unwrap_err();
        assert!(err.to_string().contains("\"abc\""), "{err}");
    }
    #[test]
    fn accessors() {
        let d = Digest::from_hex(DigestFunction::Blake3, EMPTY, 9).unwrap();
        assert_eq!(
            (d.function(), d.size_bytes(), d.hash_hex()),
            (DigestFunction::Blake3, 9, EMPTY.to_owned())
        );
    }
    #[test]
    fn function_names() {
        assert_eq!("SHA256".parse::<DigestFunction>(), Ok(DigestFunction::Sha256));
        assert_eq!("blake3".parse::<DigestFunction>(), Ok(DigestFunction::Blake3));
        assert!("sha1".parse::<DigestFunction>().is_err());
    }
}
