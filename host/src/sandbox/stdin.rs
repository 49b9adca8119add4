//! The process's stdin handed to a guest (`echo hi | runbox sh -c cat`),
//! with every wait for it ended by the step's deadline or its cancellation:
//! a script reading an idle terminal must still time out.

use std::time::Instant;

use bytes::Bytes;
use tokio::io::AsyncRead;
use wasmtime_wasi::cli::{IsTerminal, StdinStream};
use wasmtime_wasi::p2::{InputStream, Pollable, StreamError, StreamResult};

use super::cancel::Cancel;

/// Stdin as a step sees it.
pub(crate) struct StepStdin {
    pub(crate) deadline: Instant,
    pub(crate) cancel: Cancel,
}

impl IsTerminal for StepStdin {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for StepStdin {
    fn async_stream(&self) -> Box<dyn AsyncRead + Send + Sync> {
        // Only WASIp3 guests read through this; runbox's guests are p2.
        Box::new(tokio::io::empty())
    }

    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(Bounded {
            inner: wasmtime_wasi::cli::stdin().p2_stream(),
            until: tokio::time::Instant::from_std(self.deadline),
            cancel: self.cancel.clone(),
        })
    }
}

struct Bounded {
    inner: Box<dyn InputStream>,
    until: tokio::time::Instant,
    cancel: Cancel,
}

#[async_trait::async_trait]
impl InputStream for Bounded {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        self.inner.read(size)
    }

    async fn blocking_read(&mut self, size: usize) -> StreamResult<Bytes> {
        let (cancel, until) = (self.cancel.clone(), self.until);
        match cancel.bounded(self.inner.blocking_read(size), until).await {
            Some(read) => read,
            // The trap is named from the step's state: Timeout or interrupted.
            None => Err(StreamError::trap("the step ended while it waited for stdin")),
        }
    }
}

#[async_trait::async_trait]
impl Pollable for Bounded {
    async fn ready(&mut self) {
        let (cancel, until) = (self.cancel.clone(), self.until);
        cancel.bounded(self.inner.ready(), until).await;
    }
}
