//! Open files, for the `fs` global's descriptor functions (`openSync`,
//! `readSync`, `fs.promises.open`, `readLines`, `createReadStream`): a file
//! is read a piece at a time, so a script walks a file larger than its
//! memory. Descriptors are small numbers from 3, as Node's look; a step may
//! hold `MAX_OPEN` at once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom, Write};

use rquickjs::{Ctx, Function, Object, TypedArray, Value};

use crate::fs::{EBADF, EMFILE, data_bytes, stat_object, throw};

/// Descriptors a step may hold open at once (Node's EMFILE past it).
const MAX_OPEN: usize = 1024;

/// Bytes a line or text read takes from the file at a time.
const CHUNK: usize = 64 * 1024;

/// The most one read takes (a read may give fewer bytes than asked, as in
/// Node): a script's `highWaterMark: 1e12` asks for no more than this.
const MAX_READ: usize = 64 << 20;

/// A length a script asked for, as a count of bytes within `MAX_READ`.
fn read_length(length: f64) -> usize {
    if length.is_nan() || length < 0.0 { 0 } else { length.min(MAX_READ as f64) as usize }
}

struct Open {
    file: std::fs::File,
    /// Bytes read but not yet handed out: a line's start, a character's
    /// first bytes.
    pending: Vec<u8>,
    /// `readLines` saw a `\r` last, whose `\n` (if it comes) ends no line.
    after_cr: bool,
}

struct Table {
    next: i32,
    open: HashMap<i32, Open>,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table { next: 3, open: HashMap::new() });
}

pub(crate) fn register<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    native.set("fdOpen", Function::new(ctx.clone(), open)?)?;
    native.set("fdClose", Function::new(ctx.clone(), close)?)?;
    native.set("fdRead", Function::new(ctx.clone(), read)?)?;
    native.set("fdReadText", Function::new(ctx.clone(), read_text)?)?;
    native.set("fdReadLines", Function::new(ctx.clone(), read_lines)?)?;
    native.set("fdWrite", Function::new(ctx.clone(), write)?)?;
    native.set("fdFstat", Function::new(ctx.clone(), fstat)?)?;
    Ok(())
}

/// Node's `EBADF: bad file descriptor, SYSCALL`.
fn bad_descriptor(ctx: &Ctx<'_>, syscall: &str) -> rquickjs::Error {
    throw(ctx, io::Error::from_raw_os_error(EBADF), syscall, None)
}

fn with<T>(ctx: &Ctx<'_>, fd: i32, syscall: &str, f: impl FnOnce(&mut Open) -> io::Result<T>) -> rquickjs::Result<T> {
    TABLE.with(|table| {
        let mut table = table.borrow_mut();
        let Some(open) = table.open.get_mut(&fd) else {
            return Err(bad_descriptor(ctx, syscall));
        };
        f(open).map_err(|e| throw(ctx, e, syscall, None))
    })
}

/// Opens a file with Node's flags (`r`, `r+`, `w`, `w+`, `a`, `a+`, and
/// `x` for "must not exist").
/// `shown` is the path as the script wrote it, for messages.
fn open(ctx: Ctx<'_>, path: String, flags: String, shown: String) -> rquickjs::Result<i32> {
    let mut options = std::fs::OpenOptions::new();
    let plus = flags.contains('+');
    match flags.replace(['+', 's'], "").as_str() {
        "r" => options.read(true).write(plus),
        "w" => options.write(true).create(true).truncate(true).read(plus),
        "wx" | "xw" => options.write(true).create_new(true).read(plus),
        "a" => options.append(true).create(true).read(plus),
        "ax" | "xa" => options.append(true).create_new(true).read(plus),
        _ => {
            let message = format!("The value \"{flags}\" is invalid for option \"flags\"");
            let error = rquickjs::Exception::from_message(ctx.clone(), &message)?;
            error.as_object().set("code", "ERR_INVALID_ARG_VALUE")?;
            return Err(error.throw());
        }
    };
    let full = TABLE.with(|t| t.borrow().open.len() >= MAX_OPEN);
    if full {
        return Err(throw(&ctx, io::Error::from_raw_os_error(EMFILE), "open", Some(&shown)));
    }
    let file = options.open(&path).map_err(|e| throw(&ctx, e, "open", Some(&shown)))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) && flags != "r" {
        return Err(throw(&ctx, io::ErrorKind::IsADirectory.into(), "open", Some(&shown)));
    }
    Ok(TABLE.with(|table| {
        let mut table = table.borrow_mut();
        let fd = table.next;
        table.next += 1;
        table.open.insert(fd, Open { file, pending: Vec::new(), after_cr: false });
        fd
    }))
}

fn close(ctx: Ctx<'_>, fd: i32) -> rquickjs::Result<()> {
    let closed = TABLE.with(|table| table.borrow_mut().open.remove(&fd));
    closed.map(drop).ok_or_else(|| bad_descriptor(&ctx, "close"))
}

/// Reads at `position` without moving the file's offset (Node's `pread`),
/// or at the offset, moving it, when `position` is `None`.
fn read_some(open: &mut Open, length: usize, position: Option<f64>) -> io::Result<Vec<u8>> {
    // No more room than the file has left past where the read starts.
    let from = match position {
        Some(at) => at as u64,
        None => open.file.stream_position()?,
    };
    let left = open.file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len().saturating_sub(from));
    let length = left.map_or(length, |left| length.min(usize::try_from(left).unwrap_or(usize::MAX)));
    let mut bytes = vec![0; length];
    let read = match position {
        None => read_full(&mut open.file, &mut bytes)?,
        Some(at) => {
            let offset = open.file.stream_position()?;
            open.file.seek(SeekFrom::Start(at as u64))?;
            let read = read_full(&mut open.file, &mut bytes);
            open.file.seek(SeekFrom::Start(offset))?;
            read?
        }
    };
    bytes.truncate(read);
    Ok(bytes)
}

/// As many bytes as the file has, up to `buf`'s length.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn read<'js>(ctx: Ctx<'js>, fd: i32, length: f64, position: Option<f64>) -> rquickjs::Result<TypedArray<'js, u8>> {
    let bytes = with(&ctx, fd, "read", |open| read_some(open, read_length(length), position))?;
    TypedArray::new(ctx, bytes)
}

/// Text of whole characters from the next `length` bytes (a character cut
/// by the read waits for the next): `{text, read}`, `read` the bytes taken
/// from the file; `None` at the end.
fn read_text<'js>(ctx: Ctx<'js>, fd: i32, length: f64, position: Option<f64>) -> rquickjs::Result<Option<Object<'js>>> {
    let read = with(&ctx, fd, "read", |open| {
        let bytes = read_some(open, read_length(length), position)?;
        if bytes.is_empty() {
            let rest = std::mem::take(&mut open.pending);
            return Ok((!rest.is_empty()).then(|| (String::from_utf8_lossy(&rest).into_owned(), 0)));
        }
        open.pending.extend_from_slice(&bytes);
        let whole = match std::str::from_utf8(&open.pending) {
            Ok(_) => open.pending.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => open.pending.len(),
        };
        let text = String::from_utf8_lossy(&open.pending[..whole]).into_owned();
        open.pending.drain(..whole);
        Ok(Some((text, bytes.len())))
    })?;
    let Some((text, count)) = read else { return Ok(None) };
    let object = Object::new(ctx)?;
    object.set("text", text)?;
    object.set("read", count)?;
    Ok(Some(object))
}

/// The next lines, as Node's `readline` splits them (`\n`, `\r\n` or `\r`
/// ends a line; the last line needs no end); `None` at the end.
fn read_lines(ctx: Ctx<'_>, fd: i32) -> rquickjs::Result<Option<Vec<String>>> {
    with(&ctx, fd, "read", |open| {
        loop {
            let more = read_some(open, CHUNK, None)?;
            let at_end = more.is_empty();
            open.pending.extend_from_slice(&more);
            let mut lines = Vec::new();
            let mut start = 0;
            let mut at = 0;
            let bytes = &open.pending;
            while at < bytes.len() {
                match bytes[at] {
                    b'\n' if open.after_cr && at == start => {
                        open.after_cr = false;
                        start = at + 1;
                    }
                    b'\n' => {
                        lines.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
                        start = at + 1;
                    }
                    b'\r' => {
                        lines.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
                        start = at + 1;
                        open.after_cr = true;
                        at += 1;
                        continue;
                    }
                    _ => {}
                }
                open.after_cr = false;
                at += 1;
            }
            if at_end && start < bytes.len() {
                lines.push(String::from_utf8_lossy(&bytes[start..]).into_owned());
                start = bytes.len();
            }
            open.pending.drain(..start);
            if !lines.is_empty() {
                return Ok(Some(lines));
            }
            if at_end {
                return Ok(None);
            }
        }
    })
}

fn write(ctx: Ctx<'_>, fd: i32, data: Value<'_>, position: Option<f64>) -> rquickjs::Result<usize> {
    let bytes = data_bytes(data)?;
    with(&ctx, fd, "write", |open| {
        match position {
            None => open.file.write_all(&bytes)?,
            Some(at) => {
                let offset = open.file.stream_position()?;
                open.file.seek(SeekFrom::Start(at as u64))?;
                let written = open.file.write_all(&bytes);
                open.file.seek(SeekFrom::Start(offset))?;
                written?
            }
        }
        Ok(bytes.len())
    })
}

fn fstat<'js>(ctx: Ctx<'js>, fd: i32) -> rquickjs::Result<Object<'js>> {
    let meta = with(&ctx, fd, "fstat", |open| open.file.metadata())?;
    stat_object(ctx, &meta)
}
