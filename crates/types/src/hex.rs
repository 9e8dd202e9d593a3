use crate::error::ParseError;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Formats bytes as lowercase hexadecimal.
pub fn encode_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Parses exactly 64 hexadecimal digits (either case) into 32 bytes.
pub fn decode_hex32(text: &str) -> Result<[u8; 32], ParseError> {
    let err = || ParseError::Hash { text: text.to_owned() };
    let raw = text.as_bytes();
    if raw.len() != 64 {
        return Err(err());
    }
    let mut out = [0u8; 32];
    for (i, pair) in raw.chunks_exact(2).enumerate() {
        let hi = nibble(pair[0]).ok_or_else(err)?;
        let lo = nibble(pair[1]).ok_or_else(err)?;
        out[i] = (hi << 4) | lo;
    }
    Ok(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, ok: bool) {
        let parsed = decode_hex32(text);
        assert_eq!(parsed.is_ok(), ok, "{text:?} -> {parsed:?}");
        if let Ok(bytes) = parsed {
            assert_eq!(encode_hex(&bytes), text.to_ascii_lowercase());
        }
    }

    #[test]
    fn lowercase() {
        check("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true);
    }
    #[test]
    fn uppercase() {
        check("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", true);
    }
    #[test]
    fn short() {
        check("e3b0", false);
    }
    #[test]
    fn long() {
        check(&"0".repeat(66), false);
    }
    #[test]
    fn non_hex() {
        check(&format!("{}g", "0".repeat(63)), false);
    }
    #[test]
    fn multibyte_utf8_does_not_panic() {
        check(&"é".repeat(32), false);
    }
}
