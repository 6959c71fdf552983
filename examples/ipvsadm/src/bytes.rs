//! Arguments and rule lines are bytes; ipvsadm echoes them back as bytes. Text here is Rust
//! strings, so bytes that are not UTF-8 are carried as characters of a private-use range
//! (U+10FF00 + byte) and turned back into the same bytes on output: a message that quotes
//! such an argument prints it as ipvsadm does.

const BASE: u32 = 0x10_FF00;

/// Bytes as text: UTF-8 as it is, each other byte as its private-use character.
pub fn decode(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, bad) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let n = e.error_len().unwrap_or(bad.len());
                for b in &bad[..n] {
                    out.push(char::from_u32(BASE + u32::from(*b)).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                bytes = &bad[n..];
            }
        }
    }
}

/// Text as bytes: the inverse of [`decode`].
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let n = u32::from(c);
        if (BASE..BASE + 256).contains(&n) {
            out.push((n - BASE) as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        for b in [&b"plain"[..], b"caf\xe9:80", b"\xff", b"\xe2\x82", b"ok \xf0\x9f\x98\x80 \xc0\xaf"] {
            assert_eq!(encode(&decode(b)), b);
        }
        assert_eq!(decode(b"caf\xe9").chars().count(), 4);
    }
}
