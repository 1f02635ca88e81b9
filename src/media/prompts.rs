//! Prompts as 8 kHz mono samples: text to speech with espeak-ng, WAV files under the
//! prompts folder, and WAVs fetched over HTTP(S). Speech and downloads are cached on disk as raw
//! 16-bit samples, keyed by a hash of what produced them, so a repeat is one file read.

use crate::media::http_get::{self, HttpError};
use crate::media::wav::{self, WavError};
use sha2::{Digest, Sha256};
use std::path::{Component, Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// espeak-ng gets this long to speak one text.
const TTS_TIMEOUT: Duration = Duration::from_secs(30);
/// A download gets this long.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest prompt file or download read (about 40 minutes of 8 kHz 16-bit audio).
const MAX_PROMPT_BYTES: usize = 40 * 1024 * 1024;
/// The longest text spoken.
const MAX_TEXT_CHARS: usize = 10_000;

/// Why a prompt could not be produced (the Display is a short reason for the call's record).
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// The language or gender does not name an espeak-ng voice.
    #[error("no voice for language {language:?} gender {gender:?}")]
    Voice {
        /// As given.
        language: String,
        /// As given.
        gender: String,
    },
    /// Empty or overlong text.
    #[error("text to speak is empty or too long")]
    Text,
    /// espeak-ng could not be run or failed.
    #[error("tts: {0}")]
    Tts(String),
    /// A path that leaves the prompts folder, or a URL scheme we do not fetch.
    #[error("refused prompt source {0:?}")]
    Refused(String),
    /// The prompt file or the cache could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The audio is not a WAV we read.
    #[error(transparent)]
    Wav(#[from] WavError),
    /// The download failed.
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// The espeak-ng voice for a language tag (`en-US`, `fr`) and gender (`male`, `female`,
/// `neutral` or empty).
pub fn voice(language: &str, gender: &str) -> Result<String, PromptError> {
    let refuse = || PromptError::Voice {
        language: language.to_string(),
        gender: gender.to_string(),
    };
    let lang = if language.is_empty() {
        "en-us".to_string()
    } else {
        language.to_ascii_lowercase()
    };
    let valid = lang.len() <= 24
        && lang.starts_with(|c: char| c.is_ascii_alphabetic())
        && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(refuse());
    }
    let variant = match gender.to_ascii_lowercase().as_str() {
        "female" | "f" => "+f3",
        "male" | "m" => "+m3",
        "" | "neutral" => "",
        _ => return Err(refuse()),
    };
    Ok(format!("{lang}{variant}"))
}

/// Speaks `text` with espeak-ng in the voice for `language` and `gender`, as 8 kHz mono.
pub async fn tts(
    text: &str,
    language: &str,
    gender: &str,
    cache_dir: &Path,
) -> Result<Arc<[i16]>, PromptError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(PromptError::Text);
    }
    let voice = voice(language, gender)?;
    let cached = cache_dir.join(format!(
        "tts-{}.s16",
        hash(&[voice.as_bytes(), text.as_bytes()])
    ));
    if let Some(samples) = read_cached(&cached).await {
        return Ok(samples);
    }
    let wav_bytes = speak(text, &voice).await?;
    let samples = decode_wav(wav_bytes).await?;
    write_cached(cache_dir, &cached, &samples).await?;
    Ok(samples)
}

/// Runs espeak-ng with the text on its standard input (never as an argument, so no text can
/// be read as an option) and returns the WAV it writes to standard output.
async fn speak(text: &str, voice: &str) -> Result<Vec<u8>, PromptError> {
    let mut child = tokio::process::Command::new("espeak-ng")
        .args(["-v", voice, "--stdin", "--stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| PromptError::Tts(format!("cannot run espeak-ng: {e}")))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| PromptError::Tts("no stdin".into()))?;
    let input = format!("{text}\n");
    let writer = async move {
        // A write error shows up as espeak-ng's exit status.
        let _ = stdin.write_all(input.as_bytes()).await;
    };
    let (_, output) = tokio::time::timeout(TTS_TIMEOUT, async {
        tokio::join!(writer, child.wait_with_output())
    })
    .await
    .map_err(|_| PromptError::Tts("espeak-ng timed out".into()))?;
    let output = output.map_err(|e| PromptError::Tts(e.to_string()))?;
    if !output.status.success() || output.stdout.len() <= 44 {
        let why = String::from_utf8_lossy(&output.stderr);
        return Err(PromptError::Tts(format!(
            "espeak-ng {voice} failed ({}): {}",
            output.status,
            why.trim()
        )));
    }
    Ok(output.stdout)
}

/// Loads a prompt for `play`: `http://` and `https://` URLs (fetched once, then from the
/// cache), `file://` URLs and plain paths (relative to `prompts_dir`; nothing outside it).
pub async fn load(
    source: &str,
    prompts_dir: &Path,
    cache_dir: &Path,
) -> Result<Arc<[i16]>, PromptError> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let cached = cache_dir.join(format!("http-{}.s16", hash(&[source.as_bytes()])));
        if let Some(samples) = read_cached(&cached).await {
            return Ok(samples);
        }
        let bytes = http_get::get(source, MAX_PROMPT_BYTES, HTTP_TIMEOUT).await?;
        let samples = decode_wav(bytes).await?;
        write_cached(cache_dir, &cached, &samples).await?;
        return Ok(samples);
    }
    let path = resolve(source, prompts_dir)?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|source| PromptError::Io {
            path: path.clone(),
            source,
        })?;
    if bytes.len() > MAX_PROMPT_BYTES {
        return Err(PromptError::Refused(source_name(source)));
    }
    decode_wav(bytes).await
}

/// Where a `file://` URL or a path points, if it stays within `prompts_dir`.
pub fn resolve(source: &str, prompts_dir: &Path) -> Result<PathBuf, PromptError> {
    let refuse = || PromptError::Refused(source_name(source));
    let path_text = match source.split_once("://") {
        Some(("file", rest)) => rest.strip_prefix("localhost").unwrap_or(rest),
        Some(_) => return Err(refuse()),
        None => source,
    };
    let path = Path::new(path_text);
    if path_text.is_empty()
        || path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
    {
        return Err(refuse());
    }
    if path.is_absolute() {
        // Allowed only inside the prompts folder.
        let root = std::path::absolute(prompts_dir).map_err(|_| refuse())?;
        return if path.starts_with(&root) {
            Ok(path.to_path_buf())
        } else {
            Err(refuse())
        };
    }
    Ok(prompts_dir.join(path))
}

/// A source as shown in errors: URLs without their query (which may carry credentials).
fn source_name(source: &str) -> String {
    source
        .split('?')
        .next()
        .unwrap_or(source)
        .chars()
        .take(200)
        .collect()
}

/// Decodes and resamples off the async threads (resampling a long prompt takes milliseconds).
async fn decode_wav(bytes: Vec<u8>) -> Result<Arc<[i16]>, PromptError> {
    let samples = tokio::task::spawn_blocking(move || wav::decode(&bytes))
        .await
        .map_err(|e| PromptError::Tts(format!("decoder stopped: {e}")))??;
    Ok(samples.into())
}

/// Hex SHA-256 of the parts, each followed by a NUL so `("ab","c")` differs from `("a","bc")`.
fn hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn read_cached(path: &Path) -> Option<Arc<[i16]>> {
    let bytes = tokio::fs::read(path).await.ok()?;
    if bytes.len() % 2 != 0 || bytes.is_empty() {
        return None;
    }
    Some(
        bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect(),
    )
}

/// Writes the cache entry through a temporary file and a rename, so a reader never sees half.
async fn write_cached(dir: &Path, path: &Path, samples: &[i16]) -> Result<(), PromptError> {
    let io = |source| PromptError::Io {
        path: path.to_path_buf(),
        source,
    };
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let tmp = path.with_extension(format!("tmp{}", rand::random::<u32>()));
    tokio::fs::write(&tmp, &bytes).await.map_err(io)?;
    tokio::fs::rename(&tmp, path).await.map_err(io)
}

#[cfg(test)]
#[path = "prompts_tests.rs"]
mod tests;
