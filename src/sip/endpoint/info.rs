//! Digits sent in SIP INFO requests: `application/dtmf-relay` (`Signal=5` / `Duration=160`)
//! and `application/dtmf` (the digit alone). Pure.

/// The digit an INFO body carries, if its content type is one of the DTMF kinds and the digit
/// is one of `0-9 * # A-D` (`10` and `11` are accepted for `*` and `#`, as some phones send).
pub fn dtmf_digit(content_type: &str, body: &[u8]) -> Option<char> {
    let kind = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let text = std::str::from_utf8(body).ok()?;
    let raw = match kind.as_str() {
        "application/dtmf-relay" => text.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("signal")
                .then(|| value.trim())
        })?,
        "application/dtmf" => text.trim(),
        _ => return None,
    };
    match raw {
        "10" => Some('*'),
        "11" => Some('#'),
        s if s.len() == 1 => {
            let c = s.chars().next()?.to_ascii_uppercase();
            matches!(c, '0'..='9' | '*' | '#' | 'A'..='D').then_some(c)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::dtmf_digit;

    #[test]
    fn dtmf_relay_and_plain_dtmf_bodies_give_their_digit() {
        assert_eq!(
            dtmf_digit("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n"),
            Some('5')
        );
        assert_eq!(
            dtmf_digit("Application/DTMF-Relay", b"signal= #\r\nDuration=100"),
            Some('#')
        );
        assert_eq!(
            dtmf_digit("application/dtmf-relay", b"Signal=10\r\n"),
            Some('*')
        );
        assert_eq!(dtmf_digit("application/dtmf", b"1"), Some('1'));
        assert_eq!(
            dtmf_digit("application/dtmf; charset=x", b"d\r\n"),
            Some('D')
        );
    }

    #[test]
    fn other_bodies_carry_no_digit() {
        assert_eq!(dtmf_digit("application/dtmf-relay", b"Duration=160"), None);
        assert_eq!(dtmf_digit("application/dtmf-relay", b"Signal=55"), None);
        assert_eq!(dtmf_digit("application/dtmf", b"x"), None);
        assert_eq!(dtmf_digit("application/sdp", b"1"), None);
        assert_eq!(dtmf_digit("application/dtmf", &[0xff, 0xfe]), None);
    }
}
