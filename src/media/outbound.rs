//! What a call leg sends, one 20 ms slot at a time: the prompt being played, RFC 4733 digits,
//! or comfort silence. Pure: the session task calls [`Outbound::tick`] on its clock and puts
//! the bytes on the wire.

use crate::media::dtmf;
use crate::media::event::MediaEvent;
use crate::media::g711::Codec;
use crate::media::ids::{MediaTime, SeqNo, Ssrc};
use rtp::header::Header;
use std::sync::Arc;
use webrtc_util::marshal::Marshal;

/// Samples in one packet: 20 ms at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;
/// RTP header size as we send it (no CSRC, no extension).
pub const HEADER_LEN: usize = 12;
/// The largest packet we build.
pub const MAX_PACKET: usize = HEADER_LEN + FRAME_SAMPLES;

/// A prompt being played.
#[derive(Debug)]
struct Playback {
    id: u64,
    samples: Arc<[i16]>,
    pos: usize,
    interruptible: bool,
}

/// The sending half of one call leg's RTP stream.
#[derive(Debug)]
pub struct Outbound {
    ssrc: Ssrc,
    seq: SeqNo,
    time: MediaTime,
    codec: Codec,
    event_pt: Option<u8>,
    /// Whether the far end wants our packets (else slots pass silently).
    send: bool,
    /// The far end stopped receiving in a later offer (hold): the prompt and digits wait
    /// where they are until it receives again.
    held: bool,
    /// The next audio packet starts a talk spurt.
    marker: bool,
    playback: Option<Playback>,
    digits: Option<(dtmf::Sender, MediaTime)>,
}

impl Outbound {
    /// A stream with the given (random, in production) starting ids.
    pub fn new(
        ssrc: Ssrc,
        seq: SeqNo,
        time: MediaTime,
        codec: Codec,
        event_pt: Option<u8>,
        send: bool,
    ) -> Outbound {
        Outbound {
            ssrc,
            seq,
            time,
            codec,
            event_pt,
            send,
            held: false,
            marker: true,
            playback: None,
            digits: None,
        }
    }

    /// Starts playing `samples`, replacing (and reporting as interrupted) any current prompt.
    pub fn play(
        &mut self,
        id: u64,
        samples: Arc<[i16]>,
        interruptible: bool,
        emit: &mut impl FnMut(MediaEvent),
    ) {
        self.stop(emit);
        self.marker = true;
        self.playback = Some(Playback {
            id,
            samples,
            pos: 0,
            interruptible,
        });
    }

    /// Stops the current prompt, if any, reporting it as interrupted.
    pub fn stop(&mut self, emit: &mut impl FnMut(MediaEvent)) {
        if let Some(p) = self.playback.take() {
            emit(MediaEvent::PlayFinished {
                id: p.id,
                interrupted: true,
            });
        }
    }

    /// A digit arrived from the far end: stops an interruptible prompt.
    pub fn barge_in(&mut self, emit: &mut impl FnMut(MediaEvent)) {
        if self.playback.as_ref().is_some_and(|p| p.interruptible) {
            self.stop(emit);
        }
    }

    /// Queues digits to send as telephone-events (replacing digits not yet sent).
    pub fn send_digits(
        &mut self,
        digits: &str,
        duration_ms: u32,
        interval_ms: u32,
        emit: &mut impl FnMut(MediaEvent),
    ) {
        if self.event_pt.is_none() {
            // The far end did not accept telephone-events: nothing can be sent.
            emit(MediaEvent::DigitsSent);
            return;
        }
        self.digits = Some((
            dtmf::Sender::new(digits, duration_ms, interval_ms),
            self.time,
        ));
    }

    /// The far end made a new offer: from the next slot send `codec`, telephone-events as
    /// `event_pt`, and packets only if `send` (the far end receives). A far end that stops
    /// receiving holds the stream: the prompt and the digits being sent stay where they are
    /// (no packet, no progress, no `PlayFinished`) until an update lets it receive again,
    /// whose first packet then carries the marker. SSRC and sequence numbers carry on, and
    /// media time keeps running with the clock while held. Digits waiting to go out are
    /// dropped (and `DigitsSent` reported) when the far end no longer takes telephone-events.
    pub fn update(
        &mut self,
        codec: Codec,
        event_pt: Option<u8>,
        send: bool,
        emit: &mut impl FnMut(MediaEvent),
    ) {
        self.codec = codec;
        self.event_pt = event_pt;
        if event_pt.is_none() && self.digits.take().is_some() {
            emit(MediaEvent::DigitsSent);
        }
        if send && !self.send {
            self.marker = true;
        }
        self.send = send;
        self.held = !send;
    }

    /// The stream's SSRC, next sequence number and next slot's media time.
    pub fn position(&self) -> (Ssrc, SeqNo, MediaTime) {
        (self.ssrc, self.seq, self.time)
    }

    /// Whether a later offer holds the stream (see [`Outbound::update`]).
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// Whether a prompt is playing.
    pub fn is_playing(&self) -> bool {
        self.playback.is_some()
    }

    /// Fills the next 20 ms slot into `buf` and returns the packet length (0: send nothing).
    /// Media time advances by one frame whether or not a packet is sent; while held nothing
    /// else does.
    pub fn tick(&mut self, buf: &mut [u8; MAX_PACKET], emit: &mut impl FnMut(MediaEvent)) -> usize {
        let len = if self.held { 0 } else { self.fill(buf, emit) };
        self.time.advance(FRAME_SAMPLES as u32);
        len
    }

    fn fill(&mut self, buf: &mut [u8; MAX_PACKET], emit: &mut impl FnMut(MediaEvent)) -> usize {
        if let Some((sender, event_time)) = self.digits.as_mut() {
            match sender.next_step() {
                Some(dtmf::Step::Event { payload, first }) => {
                    if first {
                        *event_time = self.time;
                    }
                    let (pt, time) = (self.event_pt.unwrap_or(101), *event_time);
                    if !self.send {
                        return 0;
                    }
                    let n = self.header(buf, pt, first, time);
                    buf[n..n + dtmf::EVENT_LEN].copy_from_slice(&payload);
                    // The audio after an event starts a new talk spurt.
                    self.marker = true;
                    return n + dtmf::EVENT_LEN;
                }
                Some(dtmf::Step::Gap) => {}
                None => {
                    self.digits = None;
                    emit(MediaEvent::DigitsSent);
                }
            }
        }

        let payload = &mut buf[HEADER_LEN..];
        let mut finished = None;
        match self.playback.as_mut() {
            Some(p) => {
                let end = (p.pos + FRAME_SAMPLES).min(p.samples.len());
                let frame = &p.samples[p.pos..end];
                self.codec.encode_into(frame, payload);
                payload[frame.len()..].fill(self.codec.silence());
                p.pos = end;
                if p.pos >= p.samples.len() {
                    finished = Some(p.id);
                }
            }
            None => payload.fill(self.codec.silence()),
        }
        if let Some(id) = finished {
            self.playback = None;
            emit(MediaEvent::PlayFinished {
                id,
                interrupted: false,
            });
        }
        if !self.send {
            return 0;
        }
        let marker = std::mem::take(&mut self.marker);
        let n = self.header(buf, self.codec.payload_type(), marker, self.time);
        n + FRAME_SAMPLES
    }

    fn header(&mut self, buf: &mut [u8], pt: u8, marker: bool, time: MediaTime) -> usize {
        let header = Header {
            version: 2,
            marker,
            payload_type: pt,
            sequence_number: self.seq.take_next().0,
            timestamp: time.0,
            ssrc: self.ssrc.0,
            ..Default::default()
        };
        // A 12-byte header always fits the 172-byte buffer.
        header.marshal_to(buf).unwrap_or(HEADER_LEN)
    }
}

#[cfg(test)]
#[path = "outbound_tests.rs"]
mod tests;
