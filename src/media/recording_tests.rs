use super::*;
use std::io::Cursor;

/// Parses a 2-channel 16-bit WAV: (channels, rate, frames as pairs).
fn read_wav(bytes: &[u8]) -> (u16, u32, Vec<[i16; 2]>) {
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(
        u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize,
        bytes.len() - 8
    );
    assert_eq!(&bytes[8..16], b"WAVEfmt ");
    let channels = u16::from_le_bytes([bytes[22], bytes[23]]);
    let rate = u32::from_le_bytes(bytes[24..28].try_into().unwrap());
    assert_eq!(&bytes[36..40], b"data");
    let size = u32::from_le_bytes(bytes[40..44].try_into().unwrap()) as usize;
    assert_eq!(size, bytes.len() - HEADER_LEN);
    let frames = bytes[HEADER_LEN..]
        .chunks_exact(4)
        .map(|f| {
            [
                i16::from_le_bytes([f[0], f[1]]),
                i16::from_le_bytes([f[2], f[3]]),
            ]
        })
        .collect();
    (channels, rate, frames)
}

#[test]
fn the_header_describes_two_channels_of_16_bit_8_khz() {
    let h = header(32_000);
    let (channels, rate, frames) = {
        let mut file = h.to_vec();
        file.extend(std::iter::repeat_n(0u8, 32_000));
        read_wav(&file)
    };
    assert_eq!((channels, rate, frames.len()), (2, 8000, 8000));
    assert_eq!(
        u32::from_le_bytes(h[28..32].try_into().unwrap()),
        32_000,
        "byte rate"
    );
    assert_eq!(u16::from_le_bytes([h[32], h[33]]), 4, "block align");
}

#[test]
fn channels_interleave_and_gaps_are_silence() {
    let mut f = Frames::default();
    f.add(0, 0, &[1, 2, 3]);
    f.add(1, 2, &[10, 20]);
    f.add(0, 6, &[7]);
    let mut out = Vec::new();
    assert_eq!(f.drain_until(8, &mut out), 8);
    let frames: Vec<[i16; 2]> = out
        .chunks_exact(4)
        .map(|b| {
            [
                i16::from_le_bytes([b[0], b[1]]),
                i16::from_le_bytes([b[2], b[3]]),
            ]
        })
        .collect();
    assert_eq!(
        frames,
        [
            [1, 0],
            [2, 0],
            [3, 10],
            [0, 20],
            [0, 0],
            [0, 0],
            [7, 0],
            [0, 0]
        ]
    );
    // Too late for what is written: dropped; straddling: the rest is kept.
    f.add(0, 4, &[9, 9]);
    f.add(1, 7, &[5, 6]);
    let mut out = Vec::new();
    assert_eq!(f.drain_until(10, &mut out), 2);
    assert_eq!(&out[..4], &[0, 0, 6, 0]);
}

#[test]
fn placement_follows_rtp_time_and_falls_back_to_the_wall_clock() {
    let mut p = Placement::default();
    assert_eq!(
        p.place(800, 1, 50_000),
        800,
        "first packet at the wall clock"
    );
    // A packet late by 5 ms still goes where its timestamp says.
    assert_eq!(p.place(1_000, 1, 50_160), 960);
    // A lost packet leaves a gap the size of its time.
    assert_eq!(p.place(1_280, 1, 50_480), 1_280);
    // A new source starts at the wall clock.
    assert_eq!(p.place(1_500, 2, 7), 1_500);
    // A jump in the timestamps of more than half a second: back to the wall clock.
    assert_eq!(p.place(1_660, 2, 7 + 160 + 80_000), 1_660);
}

/// A file on a full disk: writes past `room` bytes fail.
struct FullDisk {
    file: Cursor<Vec<u8>>,
    room: u64,
}

impl Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let pos = self.file.position();
        if pos + buf.len() as u64 > self.room {
            return Err(std::io::Error::from_raw_os_error(28)); // ENOSPC
        }
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for FullDisk {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.file.seek(pos)
    }
}

fn audio(channel: u8, pos: u64, codec: Codec, bytes: &[u8]) -> Chunk {
    let mut b = [0u8; CHUNK_BYTES];
    b[..bytes.len()].copy_from_slice(bytes);
    Chunk::Audio {
        channel,
        pos,
        codec,
        len: bytes.len() as u16,
        bytes: b,
    }
}

#[tokio::test]
async fn the_writer_decodes_both_legs_fills_silence_and_fixes_the_header() {
    let (tx, rx) = mpsc::channel(16);
    let loud_u = Codec::Pcmu.encode(8000);
    let loud_a = Codec::Pcma.encode(-8000);
    tx.send(audio(0, 0, Codec::Pcmu, &[loud_u; 160]))
        .await
        .unwrap();
    tx.send(audio(1, 160, Codec::Pcma, &[loud_a; 160]))
        .await
        .unwrap();
    tx.send(Chunk::Clock(4_000)).await.unwrap();
    tx.send(audio(0, 480, Codec::Pcmu, &[loud_u; 160]))
        .await
        .unwrap();
    tx.send(Chunk::Stop(1_600)).await.unwrap();
    drop(tx);
    let shared = SharedFile::default();
    let frames = write(shared.clone(), rx).await.unwrap();
    assert_eq!(frames, 1_600, "up to the wall clock at the stop");
    let (channels, rate, pcm) = read_wav(&shared.bytes());
    assert_eq!((channels, rate, pcm.len()), (2, 8000, 1_600));
    let callee = Codec::Pcmu.decode(loud_u);
    let agent = Codec::Pcma.decode(loud_a);
    assert!(pcm[..160].iter().all(|f| *f == [callee, 0]));
    assert!(pcm[160..320].iter().all(|f| *f == [0, agent]));
    assert!(pcm[320..480].iter().all(|f| *f == [0, 0]));
    assert!(pcm[480..640].iter().all(|f| *f == [callee, 0]));
    assert!(pcm[640..].iter().all(|f| *f == [0, 0]));
}

#[tokio::test]
async fn a_full_disk_ends_the_recording_with_an_error_and_a_valid_header() {
    let (tx, rx) = mpsc::channel(64);
    // Room for the header and one second of audio; then three seconds arrive.
    let disk = FullDisk {
        file: Cursor::new(Vec::new()),
        room: HEADER_LEN as u64 + 32_000,
    };
    let shared = SharedFile::default();
    let writer = tokio::spawn(write(Tee(disk, shared.clone()), rx));
    for i in 0..150u64 {
        if tx
            .send(audio(0, i * 160, Codec::Pcmu, &[0x80; 160]))
            .await
            .is_err()
        {
            break;
        }
        if i % 10 == 0 && tx.send(Chunk::Clock(i * 160)).await.is_err() {
            break;
        }
    }
    drop(tx);
    let error = writer.await.unwrap().unwrap_err();
    assert!(matches!(error, RecordingError::Write(_)), "{error}");
    assert!(error.to_string().contains("cannot write"), "{error}");
    let (_, _, pcm) = read_wav(&shared.bytes());
    assert!(pcm.len() <= 8000, "{} frames", pcm.len());
}

/// A growable in-memory file several owners can read.
#[derive(Clone, Default)]
struct SharedFile(Arc<std::sync::Mutex<Cursor<Vec<u8>>>>);

impl SharedFile {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().get_ref().clone()
    }
}

impl Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.0.lock().unwrap().seek(pos)
    }
}

/// Writes to the full disk and mirrors what it accepted into a readable copy.
struct Tee(FullDisk, SharedFile);

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        self.1.write_all(&buf[..n])?;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for Tee {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.1.seek(pos)?;
        self.0.seek(pos)
    }
}
