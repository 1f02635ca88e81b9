use super::*;

fn parse(text: &str) -> Result<RemoteMedia, SdpError> {
    parse_answer(text.replace('\n', "\r\n").as_bytes())
}

#[test]
fn the_offer_lists_pcmu_pcma_and_telephone_events() {
    let sdp = offer("127.0.0.1".parse().unwrap(), 20000, 7);
    assert!(sdp.contains("m=audio 20000 RTP/AVP 0 8 101\r\n"));
    assert!(sdp.contains("c=IN IP4 127.0.0.1\r\n"));
    assert!(sdp.contains("a=rtpmap:101 telephone-event/8000\r\n"));
}

#[test]
fn our_own_offer_parses_as_an_answer() {
    let sdp = offer("192.0.2.1".parse().unwrap(), 20000, 7);
    let m = parse_answer(sdp.as_bytes()).unwrap();
    assert_eq!(m.addr, "192.0.2.1:20000".parse().unwrap());
    assert_eq!(m.codec, Codec::Pcmu);
    assert_eq!(m.telephone_event, Some(101));
}

#[test]
fn asterisk_style_answer() {
    let m = parse(
        "v=0
o=- 1916440862 1916440864 IN IP4 203.0.113.10
s=Asterisk
c=IN IP4 203.0.113.10
t=0 0
m=audio 12518 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=maxptime:150
a=sendrecv
",
    )
    .unwrap();
    assert_eq!(m.addr, "203.0.113.10:12518".parse().unwrap());
    assert_eq!(m.codec, Codec::Pcma);
    assert_eq!(m.telephone_event, Some(101));
    assert_eq!(m.direction, Direction::SendRecv);
    assert!(!m.on_hold && m.wants_audio() && m.will_send());
}

#[test]
fn freeswitch_style_answer_with_media_level_ipv6_and_other_event_pt() {
    let m = parse(
        "v=0
o=FreeSWITCH 1700000000 1700000001 IN IP6 2001:db8::1
s=FreeSWITCH
c=IN IP6 2001:db8::1
t=0 0
m=audio 31172 RTP/AVP 0 96
c=IN IP6 2001:db8::2
a=rtpmap:0 PCMU/8000
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-16
a=silenceSupp:off - - - -
a=ptime:20
a=rtcp:31173 IN IP6 2001:db8::2
",
    )
    .unwrap();
    assert_eq!(m.addr, "[2001:db8::2]:31172".parse().unwrap());
    assert_eq!(m.codec, Codec::Pcmu);
    assert_eq!(m.telephone_event, Some(96));
    assert_eq!(m.direction, Direction::SendRecv);
}

#[test]
fn sipp_style_answer_without_rtpmap_for_static_types() {
    let m = parse(
        "v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
",
    )
    .unwrap();
    assert_eq!(m.addr, "127.0.0.1:6000".parse().unwrap());
    assert_eq!(m.codec, Codec::Pcmu);
    assert_eq!(m.telephone_event, None);
}

#[test]
fn the_first_offered_codec_in_the_answers_order_wins() {
    let m = parse("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 18 8 0\n").unwrap();
    assert_eq!(m.codec, Codec::Pcma);
}

#[test]
fn bare_lf_line_endings_are_accepted() {
    let m = parse_answer(b"v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n").unwrap();
    assert_eq!(m.addr.port(), 4000);
}

#[test]
fn zero_address_is_hold() {
    let m = parse("v=0\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 4000 RTP/AVP 0\n").unwrap();
    assert!(m.on_hold);
    assert!(!m.wants_audio());
}

#[test]
fn media_level_direction_overrides_session_level() {
    let m =
        parse("v=0\nc=IN IP4 10.0.0.1\na=sendonly\nm=audio 4000 RTP/AVP 0\na=inactive\n").unwrap();
    assert_eq!(m.direction, Direction::Inactive);
    assert!(!m.wants_audio() && !m.will_send());
    let m = parse("v=0\nc=IN IP4 10.0.0.1\na=sendonly\nm=audio 4000 RTP/AVP 0\n").unwrap();
    assert_eq!(m.direction, Direction::SendOnly);
    let m = parse("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=recvonly\n").unwrap();
    assert_eq!(m.direction, Direction::RecvOnly);
    assert!(m.wants_audio() && !m.will_send());
}

#[test]
fn telephone_event_must_be_listed_on_the_m_line() {
    let m = parse(
        "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=rtpmap:101 telephone-event/8000\n",
    )
    .unwrap();
    assert_eq!(m.telephone_event, None);
}

#[test]
fn video_before_audio_is_skipped() {
    let m = parse(
        "v=0\nc=IN IP4 10.0.0.1\nm=video 5000 RTP/AVP 96\nc=IN IP4 10.0.0.9\na=rtpmap:96 H264/90000\nm=audio 4000 RTP/AVP 8\n",
    )
    .unwrap();
    assert_eq!(m.addr, "10.0.0.1:4000".parse().unwrap());
    assert_eq!(m.codec, Codec::Pcma);
}

#[test]
fn no_common_codec_is_refused() {
    let err = parse("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 18 9\n").unwrap_err();
    assert_eq!(err, SdpError::NoCommonCodec);
    assert_eq!(err.to_string(), "no common codec");
}

#[test]
fn srtp_is_refused() {
    let err = parse("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/SAVP 0\n").unwrap_err();
    assert_eq!(err, SdpError::Transport);
    assert_eq!(err.to_string(), "unsupported media transport");
}

#[test]
fn rejected_or_missing_audio_is_refused() {
    assert_eq!(
        parse("v=0\nc=IN IP4 10.0.0.1\nm=audio 0 RTP/AVP 0\n").unwrap_err(),
        SdpError::NoAudio
    );
    assert_eq!(
        parse("v=0\nc=IN IP4 10.0.0.1\nm=video 4000 RTP/AVP 96\n").unwrap_err(),
        SdpError::NoAudio
    );
    assert_eq!(
        parse("v=0\nm=audio 4000 RTP/AVP 0\n").unwrap_err(),
        SdpError::NoConnection
    );
}

#[test]
fn garbage_is_refused_without_panicking() {
    assert_eq!(parse_answer(b"").unwrap_err(), SdpError::NotSdp);
    assert_eq!(
        parse_answer(&[0xff, 0xfe, 0x00]).unwrap_err(),
        SdpError::NotSdp
    );
    assert_eq!(parse_answer(b"hello world").unwrap_err(), SdpError::NotSdp);
    assert!(parse("v=0\nthis is not sdp\n").is_err());
    assert!(parse("v=0\nc=IN IP4 999.1.1.1\nm=audio 4000 RTP/AVP 0\n").is_err());
    assert!(parse("v=0\nc=IN IP6 10.0.0.1\nm=audio 4000 RTP/AVP 0\n").is_err());
    assert!(parse("v=0\nc=IN IP4 10.0.0.1\nm=audio 99999 RTP/AVP 0\n").is_err());
    assert!(parse("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP zero\n").is_err());
    assert!(parse("v=0\nc=IN IP4 10.0.0.1\nm=audio\n").is_err());
}

#[test]
fn an_answer_mirrors_the_offered_direction() {
    use Direction::*;
    assert_eq!(SendOnly.answered(), RecvOnly);
    assert_eq!(RecvOnly.answered(), SendOnly);
    assert_eq!(Inactive.answered(), Inactive);
    assert_eq!(SendRecv.answered(), SendRecv);
    assert_eq!(RecvOnly.attribute(), "recvonly");
}

#[test]
fn a_revised_sdp_bumps_the_version_and_replaces_the_direction_only() {
    let ours = offer("192.0.2.1".parse().unwrap(), 20000, 7);
    let revised = revise(&ours, 1, Direction::RecvOnly).unwrap();
    assert_eq!(
        revised,
        ours.replace("o=ringmaster 7 7 ", "o=ringmaster 7 8 ")
            .replace("a=sendrecv", "a=recvonly")
    );
    let m = parse_answer(revised.as_bytes()).unwrap();
    assert_eq!(m.addr, "192.0.2.1:20000".parse().unwrap());
    assert_eq!(m.direction, Direction::RecvOnly);

    let again = revise(&ours, 2, Direction::SendRecv).unwrap();
    assert!(
        again.contains("o=ringmaster 7 9 IN IP4 192.0.2.1\r\n"),
        "{again}"
    );
    assert!(again.contains("m=audio 20000 RTP/AVP 0 8 101\r\n"));
    assert_eq!(again.matches("a=sendrecv").count(), 1);
}

#[test]
fn a_revised_sdp_puts_the_direction_in_the_audio_section_and_drops_session_level_ones() {
    let ours = "v=0\no=x 1 5 IN IP4 10.0.0.1\ns=-\na=sendonly\nc=IN IP4 10.0.0.1\nt=0 0\n\
                m=audio 4000 RTP/AVP 0\na=inactive\nm=video 5000 RTP/AVP 96\n";
    let revised = revise(ours, 3, Direction::SendOnly).unwrap();
    assert_eq!(
        revised,
        "v=0\r\no=x 1 8 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
         m=audio 4000 RTP/AVP 0\r\na=sendonly\r\nm=video 5000 RTP/AVP 96\r\n"
    );
}

#[test]
fn an_sdp_without_origin_or_audio_cannot_be_revised() {
    assert_eq!(revise("v=0\r\n", 1, Direction::SendRecv), None);
    assert_eq!(
        revise(
            "v=0\r\no=x 1 one IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n",
            1,
            Direction::SendRecv
        ),
        None
    );
    assert_eq!(
        revise(
            "v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\nm=video 4000 RTP/AVP 96\r\n",
            1,
            Direction::SendRecv
        ),
        None
    );
    assert_eq!(
        revise(
            &format!(
                "v=0\r\no=x 1 {} IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n",
                u64::MAX
            ),
            1,
            Direction::SendRecv
        ),
        None
    );
}
