//! RFC 4733 telephone-events: parsing, a detector that yields one digit per event, and the
//! packets that send a digit.

/// Size of one telephone-event payload.
pub const EVENT_LEN: usize = 4;
/// Samples per packet at 8 kHz and 20 ms.
const SAMPLES_PER_PACKET: u32 = 160;
/// Volume we send, in -dBm0 (RFC 4733 section 2.5.2.2 suggests a real tone level).
const SEND_VOLUME: u8 = 10;
/// How many packets carry the end bit (RFC 4733 section 2.5.1.4: three).
pub const END_PACKETS: u32 = 3;

/// One telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Event code: 0-9, 10 `*`, 11 `#`, 12-15 `A`-`D`, 16 flash.
    pub code: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Volume in -dBm0 (0-63).
    pub volume: u8,
    /// Duration so far, in timestamp units (8 kHz samples).
    pub duration: u16,
}

impl Event {
    /// Parses a payload; `None` when it is too short.
    pub fn parse(payload: &[u8]) -> Option<Event> {
        let b = payload.get(..EVENT_LEN)?;
        Some(Event {
            code: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// The payload bytes.
    pub fn to_bytes(self) -> [u8; EVENT_LEN] {
        let d = self.duration.to_be_bytes();
        [
            self.code,
            (if self.end { 0x80 } else { 0 }) | (self.volume & 0x3F),
            d[0],
            d[1],
        ]
    }
}

/// The DTMF digit of an event code.
pub fn digit_of(code: u8) -> Option<char> {
    match code {
        0..=9 => Some((b'0' + code) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + code - 12) as char),
        _ => None,
    }
}

/// The event code of a DTMF digit (`a`-`d` accepted as `A`-`D`).
pub fn code_of(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        'a'..='d' => Some(digit as u8 - b'a' + 12),
        _ => None,
    }
}

/// Turns received telephone-event packets into digits, one per event.
///
/// An event is identified by its RTP timestamp (the event's start). The digit is reported on
/// the first packet seen for a new timestamp — start, update or end, so a lost start still
/// yields the digit — and every later packet of that event (updates, the retransmitted end
/// packets, reordered stragglers) is ignored.
#[derive(Debug, Default)]
pub struct Detector {
    last: Option<u32>,
}

impl Detector {
    /// A detector that has seen nothing.
    pub fn new() -> Detector {
        Detector::default()
    }

    /// Feeds one packet's RTP timestamp and payload; returns the digit when a new event begins.
    pub fn feed(&mut self, timestamp: u32, payload: &[u8]) -> Option<char> {
        let event = Event::parse(payload)?;
        let digit = digit_of(event.code)?;
        if let Some(last) = self.last {
            // Same event, or an older one arriving late (serial-number arithmetic).
            if (timestamp.wrapping_sub(last) as i32) <= 0 {
                return None;
            }
        }
        self.last = Some(timestamp);
        Some(digit)
    }
}

/// What to put on the wire in one 20 ms slot while sending digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A telephone-event packet; `first` is the event's first packet (marker bit, and the
    /// RTP timestamp of this slot becomes the event's timestamp).
    Event {
        /// The payload.
        payload: [u8; EVENT_LEN],
        /// First packet of the event.
        first: bool,
    },
    /// A pause between digits: send ordinary audio.
    Gap,
}

/// A digit string laid out as 20 ms slots: each digit's packets (duration growing by 160,
/// the last three carrying the end bit), then the pause.
#[derive(Debug, Clone)]
pub struct Sender {
    codes: Vec<u8>,
    /// Packets per digit before the two end retransmissions.
    packets: u32,
    total: u16,
    gap_slots: u32,
    digit: usize,
    slot: u32,
}

impl Sender {
    /// Plans `digits` (characters that are not DTMF digits are skipped).
    pub fn new(digits: &str, duration_ms: u32, interval_ms: u32) -> Sender {
        let total = (duration_ms.clamp(40, 8000) * 8).min(u16::MAX as u32);
        Sender {
            codes: digits.chars().filter_map(code_of).collect(),
            packets: total.div_ceil(SAMPLES_PER_PACKET),
            total: total as u16,
            gap_slots: interval_ms.div_ceil(20),
            digit: 0,
            slot: 0,
        }
    }

    /// The next slot, or `None` when every digit and pause has been sent.
    pub fn next_step(&mut self) -> Option<Step> {
        let code = *self.codes.get(self.digit)?;
        let slot = self.slot;
        let event_slots = self.packets + END_PACKETS - 1;
        let last_digit = self.digit + 1 == self.codes.len();
        let gap_slots = if last_digit { 0 } else { self.gap_slots };
        self.slot += 1;
        if self.slot >= event_slots + gap_slots {
            self.slot = 0;
            self.digit += 1;
        }
        if slot >= event_slots {
            return Some(Step::Gap);
        }
        let end = slot + 1 >= self.packets;
        let duration = if end {
            self.total
        } else {
            ((slot + 1) * SAMPLES_PER_PACKET) as u16
        };
        Some(Step::Event {
            payload: Event {
                code,
                end,
                volume: SEND_VOLUME,
                duration,
            }
            .to_bytes(),
            first: slot == 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(code: u8, end: bool, duration: u16) -> [u8; 4] {
        Event {
            code,
            end,
            volume: 10,
            duration,
        }
        .to_bytes()
    }

    #[test]
    fn payload_round_trip_and_wire_layout() {
        let bytes = payload(11, true, 1600);
        assert_eq!(bytes, [11, 0x8A, 0x06, 0x40]);
        let e = Event::parse(&bytes).unwrap();
        assert_eq!((e.code, e.end, e.volume, e.duration), (11, true, 10, 1600));
        assert_eq!(Event::parse(&[1, 2, 3]), None);
    }

    #[test]
    fn digits_and_codes_map_both_ways() {
        for d in "0123456789*#ABCD".chars() {
            assert_eq!(digit_of(code_of(d).unwrap()), Some(d));
        }
        assert_eq!(code_of('b'), Some(13));
        assert_eq!(code_of('x'), None);
        assert_eq!(digit_of(16), None);
    }

    #[test]
    fn one_digit_per_event_despite_updates_and_end_retransmissions() {
        let mut d = Detector::new();
        let mut got = String::new();
        let stream = [
            (1000u32, payload(1, false, 160)),
            (1000, payload(1, false, 320)),
            (1000, payload(1, true, 800)),
            (1000, payload(1, true, 800)),
            (1000, payload(1, true, 800)),
            (3000, payload(11, false, 160)),
            (3000, payload(11, true, 480)),
            (3000, payload(11, true, 480)),
            (1000, payload(1, true, 800)), // a late straggler of the first event
            (3000, payload(11, true, 480)),
        ];
        for (ts, p) in stream {
            if let Some(c) = d.feed(ts, &p) {
                got.push(c);
            }
        }
        assert_eq!(got, "1#");
    }

    #[test]
    fn the_same_digit_twice_is_two_events() {
        let mut d = Detector::new();
        assert_eq!(d.feed(0, &payload(5, true, 800)), Some('5'));
        assert_eq!(d.feed(0, &payload(5, true, 800)), None);
        assert_eq!(d.feed(2400, &payload(5, true, 800)), Some('5'));
    }

    #[test]
    fn a_lost_start_still_yields_the_digit_and_timestamps_wrap() {
        let mut d = Detector::new();
        assert_eq!(d.feed(u32::MAX - 100, &payload(7, true, 800)), Some('7'));
        assert_eq!(d.feed(50, &payload(8, false, 160)), Some('8'));
        assert_eq!(d.feed(50, &payload(8, true, 160)), None);
    }

    #[test]
    fn short_payloads_and_non_digit_events_are_ignored() {
        let mut d = Detector::new();
        assert_eq!(d.feed(0, &[1, 2]), None);
        assert_eq!(d.feed(0, &payload(16, false, 160)), None);
        assert_eq!(d.feed(0, &payload(3, false, 160)), Some('3'));
    }

    #[test]
    fn sender_lays_out_events_with_three_end_packets_and_gaps() {
        let mut s = Sender::new("1x#", 100, 40);
        let mut steps = Vec::new();
        while let Some(step) = s.next_step() {
            steps.push(step);
        }
        // 100 ms = 800 samples = 5 packets (the 5th is the first end packet), two more end
        // packets, then 2 gap slots; the last digit has no trailing gap.
        assert_eq!(steps.len(), 7 + 2 + 7);
        let events: Vec<Event> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Event { payload, .. } => Event::parse(payload),
                Step::Gap => None,
            })
            .collect();
        let durations: Vec<u16> = events[..7].iter().map(|e| e.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        assert_eq!(events[..7].iter().filter(|e| e.end).count(), 3);
        assert!(events[..7].iter().all(|e| e.code == 1));
        assert!(events[7..].iter().all(|e| e.code == 11));
        assert_eq!(steps[7], Step::Gap);
        assert!(matches!(steps[0], Step::Event { first: true, .. }));
        assert!(matches!(steps[1], Step::Event { first: false, .. }));
        assert!(matches!(steps[9], Step::Event { first: true, .. }));
    }

    #[test]
    fn sent_digits_are_detected_once_each() {
        let mut s = Sender::new("42", 60, 20);
        let mut d = Detector::new();
        let (mut ts, mut event_ts, mut got) = (0u32, 0u32, String::new());
        while let Some(step) = s.next_step() {
            if let Step::Event { payload, first } = step {
                if first {
                    event_ts = ts;
                }
                got.extend(d.feed(event_ts, &payload));
            }
            ts += 160;
        }
        assert_eq!(got, "42");
    }
}
