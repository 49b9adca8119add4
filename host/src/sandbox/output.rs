//! A guest's stdout or stderr: kept up to a byte limit, optionally echoed
//! live to the host's own stream, and stopping the guest once it writes past
//! the limit (an output flood is an error, not a slow death by fuel).

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// One of a step's output streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Where a step's output goes while it runs, besides being kept: a
/// terminal, a server's event stream. Bytes arrive as the guest writes them,
/// up to the step's output limit.
pub trait Live: Send + Sync {
    fn write(&self, stream: Stream, bytes: &[u8]);
}

/// Where one captured stream is echoed live.
pub(crate) type Echo = Option<(Arc<dyn Live>, Stream)>;

/// One captured stream; clones share the same buffer.
#[derive(Clone)]
pub(crate) struct Capture(Arc<Mutex<CaptureState>>);

struct CaptureState {
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
        Capture(Arc::new(Mutex::new(CaptureState { bytes: Vec::new(), limit, exceeded: false, echo })))
    }

    fn state(&self) -> MutexGuard<'_, CaptureState> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps what fits; false once the limit is passed.
    pub(crate) fn accept(&self, bytes: &[u8]) -> bool {
        let mut state = self.state();
        let room = state.limit.saturating_sub(state.bytes.len());
        let kept = &bytes[..bytes.len().min(room)];
        state.bytes.extend_from_slice(kept);
        if let Some((live, stream)) = state.echo.as_ref().filter(|_| !kept.is_empty()) {
            live.write(*stream, kept);
        }
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
            text.push_str(&crate::text::cut_marker(
                &format!("{stream} at {} bytes", state.limit),
                "the step's output limit",
            ));
        }
        Captured { text, truncated: state.exceeded }
    }
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
        let capture = Capture::new(5, None);
        let mut stream = capture.p2_stream();
        assert!(stream.write(Bytes::from_static(b"abc")).is_ok());
        assert!(stream.write(Bytes::from_static(b"defgh")).is_err());
        let out = capture.finish("stdout");
        assert!(out.truncated);
        assert_eq!(out.text, "abcde\n[runbox: cut stdout at 5 bytes: the step's output limit]\n");
    }

    #[test]
    fn output_within_the_limit_is_whole() {
        let capture = Capture::new(5, None);
        capture.p2_stream().write(Bytes::from_static(b"abcde")).unwrap();
        assert_eq!(capture.finish("stdout"), Captured { text: "abcde".into(), truncated: false });
    }
}
