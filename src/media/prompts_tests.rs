use super::*;
use tokio::io::AsyncReadExt;

#[test]
fn voices_follow_language_and_gender() {
    assert_eq!(voice("en-US", "female").unwrap(), "en-us+f3");
    assert_eq!(voice("en-US", "male").unwrap(), "en-us+m3");
    assert_eq!(voice("fr", "neutral").unwrap(), "fr");
    assert_eq!(voice("", "").unwrap(), "en-us");
    for (lang, gender) in [("-x", ""), ("en us", ""), ("en/../x", ""), ("en", "robot")] {
        assert!(voice(lang, gender).is_err(), "{lang} {gender}");
    }
}

#[test]
fn paths_stay_inside_the_prompts_folder() {
    let dir = Path::new("/srv/prompts");
    assert_eq!(resolve("hello.wav", dir).unwrap(), dir.join("hello.wav"));
    assert_eq!(resolve("a/b.wav", dir).unwrap(), dir.join("a/b.wav"));
    assert_eq!(resolve("file://x/b.wav", dir).unwrap(), dir.join("x/b.wav"));
    assert_eq!(
        resolve("file:///srv/prompts/b.wav", dir).unwrap(),
        PathBuf::from("/srv/prompts/b.wav")
    );
    for bad in [
        "../secret.wav",
        "a/../../b.wav",
        "/etc/passwd",
        "file:///etc/passwd",
        "file:///srv/prompts/../x.wav",
        "ftp://host/x.wav",
        "https://host/x.wav",
        "",
    ] {
        assert!(
            matches!(resolve(bad, dir), Err(PromptError::Refused(_))),
            "{bad}"
        );
    }
}

fn rms(s: &[i16]) -> f64 {
    (s.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
}

#[tokio::test]
async fn speech_is_synthesised_once_then_read_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let first = tts(
        "This is a test of ringmaster",
        "en-US",
        "female",
        cache.path(),
    )
    .await
    .unwrap();
    let secs = first.len() as f64 / 8000.0;
    assert!((1.0..6.0).contains(&secs), "{secs} s");
    assert!(rms(&first) > 500.0, "rms {}", rms(&first));
    let entries: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
    // Overwrite the entry: the second call must return what the cache holds.
    let entry = entries[0].as_ref().unwrap().path();
    std::fs::write(&entry, [1u8, 0, 2, 0]).unwrap();
    let second = tts(
        "This is a test of ringmaster",
        "en-US",
        "female",
        cache.path(),
    )
    .await
    .unwrap();
    assert_eq!(&second[..], [1, 2]);
    // Another voice is another entry.
    tts(
        "This is a test of ringmaster",
        "en-US",
        "male",
        cache.path(),
    )
    .await
    .unwrap();
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 2);
}

#[tokio::test]
async fn bad_text_and_voices_are_errors() {
    let cache = tempfile::tempdir().unwrap();
    assert!(matches!(
        tts("  ", "en", "", cache.path()).await,
        Err(PromptError::Text)
    ));
    assert!(matches!(
        tts("hi", "en", "robot", cache.path()).await,
        Err(PromptError::Voice { .. })
    ));
}

#[tokio::test]
async fn wav_files_load_from_the_prompts_folder() {
    let prompts = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(
        prompts.path().join("beep.wav"),
        wav::encode_pcm16(&vec![1000i16; 16000], 16000),
    )
    .unwrap();
    let samples = load("beep.wav", prompts.path(), cache.path())
        .await
        .unwrap();
    assert_eq!(samples.len(), 8000);
    let url = format!("file://{}", prompts.path().join("beep.wav").display());
    assert_eq!(
        load(&url, prompts.path(), cache.path())
            .await
            .unwrap()
            .len(),
        8000
    );
    assert!(matches!(
        load("missing.wav", prompts.path(), cache.path()).await,
        Err(PromptError::Io { .. })
    ));
    std::fs::write(prompts.path().join("text.wav"), "not audio").unwrap();
    assert!(matches!(
        load("text.wav", prompts.path(), cache.path()).await,
        Err(PromptError::Wav(_))
    ));
}

#[tokio::test]
async fn http_prompts_are_fetched_once() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = wav::encode_pcm16(&vec![-2000i16; 800], 8000);
    let server = tokio::spawn(async move {
        let mut served = 0;
        // Serves chunked, then would serve again if asked; the test asks once.
        while let Ok(Ok((mut s, _))) =
            tokio::time::timeout(Duration::from_millis(1500), listener.accept()).await
        {
            let mut req = vec![0u8; 1024];
            let n = s.read(&mut req).await.unwrap();
            assert!(req[..n].starts_with(b"GET /p/hello.wav?v=1 HTTP/1.1\r\n"));
            let mut resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            for chunk in body.chunks(500) {
                resp.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                resp.extend_from_slice(chunk);
                resp.extend_from_slice(b"\r\n");
            }
            resp.extend_from_slice(b"0\r\n\r\n");
            s.write_all(&resp).await.unwrap();
            served += 1;
        }
        served
    });
    let cache = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/p/hello.wav?v=1");
    let first = load(&url, Path::new("prompts"), cache.path())
        .await
        .unwrap();
    assert_eq!(first.len(), 800);
    assert!(first.iter().all(|&s| s == -2000));
    let second = load(&url, Path::new("prompts"), cache.path())
        .await
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(server.await.unwrap(), 1);
}

#[tokio::test]
async fn https_prompts_are_fetched_not_refused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let cache = tempfile::tempdir().unwrap();
    let got = load(
        &format!("https://{addr}/x.wav"),
        Path::new("prompts"),
        cache.path(),
    )
    .await;
    assert!(matches!(got, Err(PromptError::Http(_))), "{got:?}");
}
