//! Media: SDP offer/answer (RTP sessions, codecs and digits come with the media layer).

pub mod sdp;
