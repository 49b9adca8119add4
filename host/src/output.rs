//! A guest's stdout or stderr: kept up to a byte limit, optionally echoed
//! live to the host's own stream, and stopping the guest once it writes past
//! the limit (an output flood is an error, not a slow death by fuel).

use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Where captured output is echoed while the step runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    None,
    Stdout,
    Stderr,
}

/// One captured stream; clones share the same buffer.
#[derive(Clone)]
pub(crate) struct Capture(Arc<Mutex<State>>);

struct State {
    bytes: Vec<u8>,
    limit: usize,
    exceeded: bool,
    echo: Echo,
}

/// What a step wrote to one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captured {
    pub text: String,
    /// The guest wrote more than the limit; `text` holds the first bytes.
    pub truncated: bool,
}

impl Capture {
    pub(crate) fn new(limit: usize, echo: Echo) -> Capture {
        Capture(Arc::new(Mutex::new(State { bytes: Vec::new(), limit, exceeded: false, echo })))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps what fits; false once the limit is passed.
    fn accept(&self, bytes: &[u8]) -> bool {
        let mut state = self.state();
        let room = state.limit.saturating_sub(state.bytes.len());
        let kept = &bytes[..bytes.len().min(room)];
        state.bytes.extend_from_slice(kept);
        let result = match state.echo {
            Echo::None => Ok(()),
            Echo::Stdout => std::io::stdout().write_all(kept).and_then(|()| std::io::stdout().flush()),
            Echo::Stderr => std::io::stderr().write_all(kept),
        };
        // The terminal going away must not fail the step; the capture is whole.
        drop(result);
        if kept.len() < bytes.len() {
            state.exceeded = true;
        }
        !state.exceeded
    }

    pub(crate) fn exceeded(&self) -> bool {
        self.state().exceeded
    }

    /// The text so far, with a marker line when it was cut.
    pub(crate) fn finish(&self, stream: &str) -> Captured {
        let state = self.state();
        let mut text = String::from_utf8_lossy(&state.bytes).into_owned();
        if state.exceeded {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("[runbox: {stream} truncated at {} bytes]\n", state.limit));
        }
        Captured { text, truncated: state.exceeded }
    }
}

/// Cuts `text` to at most `room` bytes (at a character boundary), ending it
/// with a marker line that says why; false if it fitted.
pub(crate) fn cut(text: &mut String, room: usize, why: &str) -> bool {
    if text.len() <= room {
        return false;
    }
    let mut end = room;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let dropped = text.len() - end;
    text.truncate(end);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("[runbox: {dropped} more bytes not kept: {why}]\n"));
    true
}

/// The start and end of `text` within about `limit` bytes, with a marker
/// between them saying how much was left out: for History, which lives in
/// the runbook file.
pub fn excerpt(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let boundary = |mut at: usize| {
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let head = boundary(limit / 4);
    let tail = boundary(text.len() - (limit - limit / 4));
    let tail = if tail < head { head } else { tail };
    let mut out = text[..head].to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("[runbox: {} bytes left out of History; the JSON record keeps more]\n", tail - head));
    out.push_str(&text[tail..]);
    out
}

/// `text` with control characters shown as escapes (`\u{1b}`), tabs kept:
/// text a runbook or a step chose must not move the cursor, erase lines or
/// retitle the terminal it is shown on.
pub fn visible(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

/// [`visible`], line by line: newlines are kept.
pub fn visible_lines(text: &str) -> String {
    text.split('\n').map(visible).collect::<Vec<_>>().join("\n")
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// Room offered to the guest per write; the limit is enforced in `write`.
const PERMIT: usize = 64 * 1024;

#[async_trait::async_trait]
impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        if self.accept(&bytes) { Ok(()) } else { Err(StreamError::trap("output limit exceeded")) }
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(PERMIT)
    }
}

#[async_trait::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if self.accept(buf) {
            Poll::Ready(Ok(buf.len()))
        } else {
            Poll::Ready(Err(std::io::Error::other("output limit exceeded")))
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_past_the_limit_is_cut_and_marked() {
        let capture = Capture::new(5, Echo::None);
        let mut stream = capture.p2_stream();
        assert!(stream.write(Bytes::from_static(b"abc")).is_ok());
        assert!(stream.write(Bytes::from_static(b"defgh")).is_err());
        let out = capture.finish("stdout");
        assert!(out.truncated);
        assert_eq!(out.text, "abcde\n[runbox: stdout truncated at 5 bytes]\n");
    }

    #[test]
    fn cuts_and_excerpts_keep_whole_characters_and_say_what_is_missing() {
        let mut text = "aé".repeat(10);
        assert!(cut(&mut text, 4, "budget"));
        assert_eq!(text, "aéa\n[runbox: 26 more bytes not kept: budget]\n");
        let long = format!("{}{}", "h".repeat(100), "t".repeat(100));
        let short = excerpt(&long, 40);
        assert_eq!(
            short,
            format!(
                "{}\n[runbox: 160 bytes left out of History; the JSON record keeps more]\n{}",
                "h".repeat(10),
                "t".repeat(30)
            )
        );
        assert_eq!(excerpt("short", 40), "short");
    }

    #[test]
    fn output_within_the_limit_is_whole() {
        let capture = Capture::new(5, Echo::None);
        capture.p2_stream().write(Bytes::from_static(b"abcde")).unwrap();
        assert_eq!(capture.finish("stdout"), Captured { text: "abcde".into(), truncated: false });
    }
}
