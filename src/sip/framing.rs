//! Framing of SIP messages on a byte stream (TCP, TLS).
//!
//! A stream driver appends what it reads to a buffer and calls [`next_frame`] until it returns
//! [`Frame::Incomplete`], handing each complete message to [`super::message::parse`] and
//! discarding keep-alives. Any [`FramingError`] means the stream cannot be resynchronised and the
//! connection must be closed.

/// The longest header section (start line and headers) accepted before the blank line.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The largest Content-Length accepted on a stream.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How much of a stream buffer makes up the next SIP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A whole message occupies the first `len` bytes.
    Complete {
        /// Length of the message, headers and body.
        len: usize,
    },
    /// More bytes are needed.
    Incomplete,
    /// `len` bytes of keep-alive CRLFs (RFC 5626) to discard.
    KeepAlive {
        /// Number of CR/LF bytes at the start of the buffer.
        len: usize,
    },
}

/// Why a stream cannot be framed; the connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// The header section carries no Content-Length, which streams require (RFC 3261 §18.3).
    #[error("message on a stream has no Content-Length")]
    MissingContentLength,
    /// Content-Length is not a decimal integer, or several disagree.
    #[error("bad Content-Length on a stream")]
    BadContentLength,
    /// Content-Length exceeds [`MAX_BODY_BYTES`].
    #[error("Content-Length {0} exceeds the limit")]
    BodyTooLarge(usize),
    /// No blank line within [`MAX_HEADER_BYTES`].
    #[error("header section exceeds {MAX_HEADER_BYTES} bytes")]
    HeaderTooLarge,
}

/// Finds the next message in a stream buffer using Content-Length (RFC 3261 §18.3: mandatory on streams).
pub fn next_frame(buf: &[u8]) -> Result<Frame, FramingError> {
    let crlfs = buf
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    if crlfs > 0 {
        return Ok(Frame::KeepAlive { len: crlfs });
    }
    let window = buf.get(..MAX_HEADER_BYTES + 4).unwrap_or(buf);
    let Some(sep) = window.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_HEADER_BYTES {
            Err(FramingError::HeaderTooLarge)
        } else {
            Ok(Frame::Incomplete)
        };
    };
    let body_len = content_length(buf.get(..sep).unwrap_or_default())?;
    let len = sep + 4 + body_len;
    if buf.len() >= len {
        Ok(Frame::Complete { len })
    } else {
        Ok(Frame::Incomplete)
    }
}

/// The Content-Length of a header section (long or compact name, any case, possibly folded).
fn content_length(head: &[u8]) -> Result<usize, FramingError> {
    let mut found: Option<usize> = None;
    let mut lines = split_crlf(head).skip(1).peekable();
    while let Some(line) = lines.next() {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        let name = trim(name);
        if !name.eq_ignore_ascii_case(b"content-length") && !name.eq_ignore_ascii_case(b"l") {
            continue;
        }
        let mut value = value.get(1..).unwrap_or_default().to_vec();
        while let Some(next) = lines.next_if(|l| l.starts_with(b" ") || l.starts_with(b"\t")) {
            value.extend_from_slice(next);
        }
        let digits = trim(&value);
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(FramingError::BadContentLength);
        }
        let n = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or(FramingError::BodyTooLarge(usize::MAX))?;
        if found.is_some_and(|f| f != n) {
            return Err(FramingError::BadContentLength);
        }
        found = Some(n);
    }
    match found {
        None => Err(FramingError::MissingContentLength),
        Some(n) if n > MAX_BODY_BYTES => Err(FramingError::BodyTooLarge(n)),
        Some(n) => Ok(n),
    }
}

/// Splits on CRLF.
fn split_crlf(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let cur = rest?;
        match cur.windows(2).position(|w| w == b"\r\n") {
            Some(i) => {
                rest = cur.get(i + 2..);
                cur.get(..i)
            }
            None => {
                rest = None;
                Some(cur)
            }
        }
    })
}

/// Trims SP and HTAB on both sides.
fn trim(s: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = s.iter().position(|b| !is_ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_ws(b)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(call: &str, body: &str) -> String {
        format!(
            "OPTIONS sip:pbx.example SIP/2.0\r\nVia: SIP/2.0/TCP h:5060;branch=z9hG4bK{call}\r\n\
             From: <sip:a@h>;tag=1\r\nTo: <sip:pbx.example>\r\nCall-ID: {call}\r\n\
             CSeq: 1 OPTIONS\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    /// Drains every frame from `buf` the way a stream driver would.
    fn drain(buf: &[u8]) -> (Vec<&[u8]>, usize) {
        let (mut frames, mut pos) = (Vec::new(), 0);
        loop {
            match next_frame(&buf[pos..]).expect("valid stream") {
                Frame::Complete { len } => {
                    frames.push(&buf[pos..pos + len]);
                    pos += len;
                }
                Frame::KeepAlive { len } => pos += len,
                Frame::Incomplete => return (frames, pos),
            }
        }
    }

    #[test]
    fn two_messages_back_to_back_are_split_at_their_content_length() {
        let (a, b) = (msg("one", "v=0\r\n"), msg("two", ""));
        let stream = format!("{a}{b}");
        let (frames, used) = drain(stream.as_bytes());
        assert_eq!(frames, vec![a.as_bytes(), b.as_bytes()]);
        assert_eq!(used, stream.len());
    }

    #[test]
    fn every_prefix_is_incomplete_until_the_whole_message_arrived() {
        let a = msg("one", "a body with\r\n\r\nblank lines");
        let stream = format!("{a}{}", msg("two", "x"));
        for cut in 0..stream.len() {
            let (frames, _) = drain(&stream.as_bytes()[..cut]);
            let expected = usize::from(cut >= a.len());
            assert_eq!(frames.len(), expected, "cut at {cut}");
        }
    }

    #[test]
    fn leading_crlf_keep_alives_are_reported_for_discarding() {
        let a = msg("one", "");
        let stream = format!("\r\n\r\n{a}\r\n");
        assert_eq!(
            next_frame(stream.as_bytes()),
            Ok(Frame::KeepAlive { len: 4 })
        );
        let (frames, used) = drain(stream.as_bytes());
        assert_eq!(frames, vec![a.as_bytes()]);
        assert_eq!(used, stream.len());
    }

    #[test]
    fn compact_and_oddly_cased_content_length_is_honoured() {
        let head = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h\r\nCall-ID: x\r\n";
        for cl in [
            "l: 3",
            "L :3",
            "content-LENGTH:   3  ",
            "Content-Length:\r\n 3",
        ] {
            let m = format!("{head}{cl}\r\n\r\nabcdef");
            let body_start = m.find("\r\n\r\n").unwrap() + 4;
            assert_eq!(
                next_frame(m.as_bytes()),
                Ok(Frame::Complete {
                    len: body_start + 3
                }),
                "{cl:?}"
            );
        }
    }

    #[test]
    fn unframeable_streams_are_errors() {
        let head = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h\r\n";
        let framed = |extra: &str| next_frame(format!("{head}{extra}\r\n").as_bytes());
        assert_eq!(framed(""), Err(FramingError::MissingContentLength));
        assert_eq!(
            framed("Content-Length: -1\r\n"),
            Err(FramingError::BadContentLength)
        );
        assert_eq!(
            framed("Content-Length: 0x10\r\n"),
            Err(FramingError::BadContentLength)
        );
        assert_eq!(
            framed("Content-Length: 2\r\nl: 3\r\n"),
            Err(FramingError::BadContentLength)
        );
        assert_eq!(
            framed("Content-Length: 99999999999999999999999\r\n"),
            Err(FramingError::BodyTooLarge(usize::MAX))
        );
        let endless = format!("{head}X-Pad: {}", "a".repeat(MAX_HEADER_BYTES));
        assert_eq!(
            next_frame(endless.as_bytes()),
            Err(FramingError::HeaderTooLarge)
        );
        assert_eq!(
            next_frame(&endless.as_bytes()[..MAX_HEADER_BYTES]),
            Ok(Frame::Incomplete)
        );
    }
}
