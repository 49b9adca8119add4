//! How the host hands the helper its instructions: over a Unix socket that
//! is the helper's stdin, the [`Spec`] as JSON and, with its first byte,
//! the step's mounts as the directory handles runbox has held since the run
//! began (`SCM_RIGHTS`). The helper confines itself to those handles, not
//! to paths: a directory swapped in at a mount's path after runbox opened
//! it stays out of reach.

use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer, SendAncillaryMessage,
    SendFlags, recvmsg, sendmsg,
};

use super::confine::Spec;

/// The most handles one message carries (the kernel's `SCM_MAX_FD`).
pub const MAX_HELD: usize = 253;

/// Sends `spec` and the `held` directories (one per `spec.binds` entry, in
/// its order) on `socket`, then ends the stream.
pub fn send(socket: &UnixStream, spec: &Spec, held: &[BorrowedFd<'_>]) -> std::io::Result<()> {
    let json = serde_json::to_vec(spec).map_err(std::io::Error::other)?;
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(held.len()))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !held.is_empty() && !control.push(SendAncillaryMessage::ScmRights(held)) {
        return Err(std::io::Error::other("too many directories to hand to the helper"));
    }
    let sent = sendmsg(socket, &[IoSlice::new(&json)], &mut control, SendFlags::empty())?;
    let mut socket = socket;
    socket.write_all(&json[sent..])?;
    socket.shutdown(std::net::Shutdown::Write)
}

/// Receives what [`send`] sent on `stdin`: the spec and its held
/// directories (closed on exec: the interpreter is confined to them, it
/// does not need them open).
pub fn receive(stdin: BorrowedFd<'_>) -> Result<(Spec, Vec<OwnedFd>), String> {
    let mut first = vec![0u8; 64 * 1024];
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_HELD))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = recvmsg(stdin, &mut [IoSliceMut::new(&mut first)], &mut control, RecvFlags::CMSG_CLOEXEC)
        .map_err(|e| format!("cannot read the helper's instructions: {e}"))?;
    let mut held = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = message {
            held.extend(fds);
        }
    }
    if got.flags.contains(ReturnFlags::CTRUNC) {
        return Err("the directories handed to the helper were cut short".into());
    }
    first.truncate(got.bytes);
    let mut rest = std::fs::File::from(stdin.try_clone_to_owned().map_err(|e| e.to_string())?);
    rest.read_to_end(&mut first).map_err(|e| format!("cannot read the helper's instructions: {e}"))?;
    let spec: Spec =
        serde_json::from_slice(&first).map_err(|e| format!("the helper's instructions do not parse: {e}"))?;
    if held.len() != spec.binds.len() {
        return Err(format!("the helper was handed {} directories, not {}", held.len(), spec.binds.len()));
    }
    Ok((spec, held))
}

/// A socket pair: the host's end, and the helper's (its stdin).
pub fn pair() -> std::io::Result<(UnixStream, OwnedFd)> {
    let (ours, theirs) = UnixStream::pair()?;
    Ok((ours, OwnedFd::from(theirs)))
}
