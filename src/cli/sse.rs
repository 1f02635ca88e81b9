//! The client side of Server-Sent Events: a stream's bytes, in whatever chunks they come,
//! into its messages (`id:`, `event:`, `data:` fields ended by a blank line; `:` comments,
//! such as the server's heartbeats, skipped). No IO: the caller feeds what it read.

/// Longest line kept, in bytes: a longer one (no event of ours comes near) is dropped whole,
/// so that a stream without line ends cannot grow the buffer without bound.
const MAX_LINE: usize = 1 << 20;

/// One message of the stream.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its `id:`, when it has one: what to send back as `Last-Event-ID`.
    pub id: Option<String>,
    /// Its `event:` (the event type), empty when it has none.
    pub event: String,
    /// Its `data:` lines, joined by `\n`.
    pub data: String,
}

/// Splits a stream into messages.
#[derive(Debug, Default)]
pub struct Parser {
    /// The line read so far.
    line: Vec<u8>,
    /// The line was too long: the rest of it is skipped.
    skipping: bool,
    /// The message being read.
    message: Message,
    /// Whether the message has a field yet (a blank line ends only such a message).
    started: bool,
    /// The message's data grew past [`MAX_LINE`]: it is dropped at its blank line.
    oversized: bool,
}

impl Parser {
    /// Reads `bytes`; the messages they complete, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Message> {
        let mut done = Vec::new();
        for &b in bytes {
            if b != b'\n' {
                if !self.skipping {
                    self.line.push(b);
                    if self.line.len() > MAX_LINE {
                        self.line.clear();
                        self.skipping = true;
                    }
                }
                continue;
            }
            if std::mem::take(&mut self.skipping) {
                continue;
            }
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.is_empty() {
                let message = std::mem::take(&mut self.message);
                if std::mem::take(&mut self.started) && !std::mem::take(&mut self.oversized) {
                    done.push(message);
                }
                continue;
            }
            self.field(&String::from_utf8_lossy(&line));
        }
        done
    }

    fn field(&mut self, line: &str) {
        if line.starts_with(':') {
            return;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "id" => self.message.id = Some(value.to_string()),
            "event" => self.message.event = value.to_string(),
            "data" => {
                if self.oversized || self.message.data.len() + value.len() >= MAX_LINE {
                    self.message.data = String::new();
                    self.oversized = true;
                } else {
                    if self.started && !self.message.data.is_empty() {
                        self.message.data.push('\n');
                    }
                    self.message.data.push_str(value);
                }
            }
            _ => return,
        }
        self.started = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_whole_whatever_the_chunks_and_comments_are_skipped() {
        let stream = b": heartbeat\n\nid: 7\nevent: campaign_updated\ndata: {\"a\":1}\n\n\
                       id:8\r\nevent:campaigncall_created\r\ndata: x\r\ndata: y\r\n\r\n";
        for cut in 0..stream.len() {
            let mut p = Parser::default();
            let mut got = p.feed(&stream[..cut]);
            got.extend(p.feed(&stream[cut..]));
            assert_eq!(
                got,
                [
                    Message {
                        id: Some("7".into()),
                        event: "campaign_updated".into(),
                        data: "{\"a\":1}".into(),
                    },
                    Message {
                        id: Some("8".into()),
                        event: "campaigncall_created".into(),
                        data: "x\ny".into(),
                    },
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_line_too_long_is_dropped_and_the_stream_goes_on() {
        let mut p = Parser::default();
        let mut long = b"data: ".to_vec();
        long.resize(MAX_LINE + 10, b'x');
        assert!(p.feed(&long).is_empty());
        assert!(p.line.len() <= MAX_LINE);
        let got = p.feed(b"\nid: 9\nevent: e\ndata: ok\n\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data, "ok");
        assert_eq!(got[0].id.as_deref(), Some("9"));
    }

    #[test]
    fn a_message_whose_data_lines_add_up_past_the_bound_is_dropped_and_the_next_one_kept() {
        let mut p = Parser::default();
        let line = format!("data: {}\n", "x".repeat(1000));
        let mut got = p.feed(b"event: flood\n");
        for _ in 0..(MAX_LINE / 1000 + 10) {
            got.extend(p.feed(line.as_bytes()));
            assert!(p.message.data.len() < MAX_LINE);
        }
        got.extend(p.feed(b"\nevent: next\ndata: ok\n\n"));
        assert_eq!(
            got.len(),
            1,
            "{:?}",
            got.iter().map(|m| &m.event).collect::<Vec<_>>()
        );
        assert_eq!(
            (got[0].event.as_str(), got[0].data.as_str()),
            ("next", "ok")
        );
    }
}
