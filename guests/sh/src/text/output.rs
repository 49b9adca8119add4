//! Where a tool writes: its standard output, gathered into writes of
//! `FLUSH` bytes (a pipe takes 4 KiB at a time and makes the writer wait
//! while it is full), and its messages on standard error.

use bashkit::CommandOutput;

/// Bytes gathered before a write.
const FLUSH: usize = 64 * 1024;

pub(crate) struct Out {
    output: CommandOutput,
    buf: Vec<u8>,
}

impl Out {
    pub(crate) fn new(output: CommandOutput) -> Self {
        Out { output, buf: Vec::with_capacity(FLUSH) }
    }

    /// Gathers `bytes`; `ready` writes them once enough are gathered.
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The buffer itself, to format into.
    pub(crate) fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Writes what is gathered when it is enough for one write. A reader
    /// that went away is an error here, which ends the tool with 141 as
    /// SIGPIPE would.
    pub(crate) async fn ready(&mut self) -> bashkit::Result<()> {
        if self.buf.len() >= FLUSH { self.flush().await } else { Ok(()) }
    }

    /// Writes everything gathered.
    pub(crate) async fn flush(&mut self) -> bashkit::Result<()> {
        if !self.buf.is_empty() {
            self.output.write_all(&self.buf).await?;
            self.buf.clear();
        }
        Ok(())
    }

    /// `TOOL: NAME: REASON` on standard error, after what standard output
    /// has gathered (the order a reader of both sees, as with GNU's).
    pub(crate) async fn complain(&mut self, stderr: &CommandOutput, message: &str) -> bashkit::Result<()> {
        self.flush().await?;
        stderr.write_all(message.as_bytes()).await
    }
}
