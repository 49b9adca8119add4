//! The native half of the `fs` global: file operations on absolute paths,
//! which WASI resolves against the step's preopened mounts and nothing else.
//! Failures become Node-style errors (`code`, `syscall`, `path`).

use std::io;
use std::time::SystemTime;

use rquickjs::{Ctx, Exception, Function, Object, TypedArray, Value};

/// wasi-libc's errno for an access the sandbox's capabilities do not allow.
const ENOTCAPABLE: i32 = 76;
/// wasi-libc's errno for a descriptor that is not open, and for too many.
pub(crate) const EBADF: i32 = 8;
pub(crate) const EMFILE: i32 = 33;
/// wasi-libc's errno for a directory that is not empty (std names it no kind).
const ENOTEMPTY: i32 = 55;

pub(crate) fn register<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    native.set("readFile", Function::new(ctx.clone(), read_file)?)?;
    native.set("readStdin", Function::new(ctx.clone(), read_stdin)?)?;
    native.set("writeFile", Function::new(ctx.clone(), write_file)?)?;
    native.set("exists", Function::new(ctx.clone(), |path: String| std::fs::metadata(path).is_ok())?)?;
    native.set("readdir", Function::new(ctx.clone(), read_dir)?)?;
    native.set("mkdir", Function::new(ctx.clone(), make_dir)?)?;
    native.set("rm", Function::new(ctx.clone(), remove)?)?;
    native.set("stat", Function::new(ctx.clone(), stat)?)?;
    native.set("rename", Function::new(ctx.clone(), rename)?)?;
    native.set("copyFile", Function::new(ctx.clone(), copy_file)?)?;
    Ok(())
}

fn read_file<'js>(ctx: Ctx<'js>, path: String, as_text: bool) -> rquickjs::Result<Value<'js>> {
    let bytes = std::fs::read(&path).map_err(|e| throw(&ctx, e, "open", Some(&path)))?;
    if as_text {
        let text = String::from_utf8_lossy(&bytes);
        Ok(rquickjs::String::from_str(ctx, &text)?.into_value())
    } else {
        Ok(TypedArray::<u8>::new(ctx, bytes)?.into_value())
    }
}

/// All of stdin: what `runbox js` was given on its stdin, nothing in a
/// runbook's step.
fn read_stdin<'js>(ctx: Ctx<'js>, as_text: bool) -> rquickjs::Result<Value<'js>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes).map_err(|e| throw(&ctx, e, "read", Some("/dev/stdin")))?;
    if as_text {
        let text = String::from_utf8_lossy(&bytes);
        Ok(rquickjs::String::from_str(ctx, &text)?.into_value())
    } else {
        Ok(TypedArray::<u8>::new(ctx, bytes)?.into_value())
    }
}

/// A string's UTF-8 or a `Uint8Array`'s bytes.
pub(crate) fn data_bytes(data: Value<'_>) -> rquickjs::Result<Vec<u8>> {
    match data.as_string() {
        Some(text) => Ok(text.to_string()?.into_bytes()),
        None => Ok(bytes_of(&TypedArray::<u8>::from_value(data)?)),
    }
}

#[allow(unsafe_code)]
pub(crate) fn bytes_of(array: &TypedArray<'_, u8>) -> Vec<u8> {
    // SAFETY: no JavaScript runs while the slice is alive.
    unsafe { array.as_bytes() }.unwrap_or_default().to_vec()
}

fn write_file<'js>(ctx: Ctx<'js>, path: String, data: Value<'js>, append: bool) -> rquickjs::Result<()> {
    let bytes = data_bytes(data)?;
    let result = if append {
        use std::io::Write;
        std::fs::OpenOptions::new().append(true).create(true).open(&path).and_then(|mut f| f.write_all(&bytes))
    } else {
        std::fs::write(&path, &bytes)
    };
    result.map_err(|e| throw(&ctx, e, "open", Some(&path)))
}

fn read_dir(ctx: Ctx<'_>, path: String) -> rquickjs::Result<Vec<Vec<String>>> {
    let entries = std::fs::read_dir(&path).map_err(|e| throw(&ctx, e, "scandir", Some(&path)))?;
    let mut listing = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| throw(&ctx, e, "scandir", Some(&path)))?;
        let kind = entry.file_type().map(|t| kind_of(&t)).unwrap_or("other");
        listing.push(vec![entry.file_name().to_string_lossy().into_owned(), kind.to_string()]);
    }
    listing.sort();
    Ok(listing)
}

fn make_dir(ctx: Ctx<'_>, path: String, recursive: bool) -> rquickjs::Result<()> {
    let result = if recursive { std::fs::create_dir_all(&path) } else { std::fs::create_dir(&path) };
    result.map_err(|e| throw(&ctx, e, "mkdir", Some(&path)))
}

/// `rm`, `rmdir` and `unlink` with Node's rules for directories.
fn remove(ctx: Ctx<'_>, path: String, recursive: bool, force: bool, syscall: String) -> rquickjs::Result<()> {
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if force && e.kind() == io::ErrorKind::NotFound => return Ok(()),
        // Node's `rm` looks before it removes.
        Err(e) => return Err(throw(&ctx, e, if syscall == "rm" { "lstat" } else { &syscall }, Some(&path))),
    };
    let result = if !meta.is_dir() {
        std::fs::remove_file(&path)
    } else if recursive {
        std::fs::remove_dir_all(&path)
    } else if syscall == "rmdir" {
        std::fs::remove_dir(&path)
    } else {
        Err(io::Error::from(io::ErrorKind::IsADirectory))
    };
    result.map_err(|e| throw(&ctx, e, &syscall, Some(&path)))
}

fn stat<'js>(ctx: Ctx<'js>, path: String, follow: bool) -> rquickjs::Result<Object<'js>> {
    let meta = if follow { std::fs::metadata(&path) } else { std::fs::symlink_metadata(&path) };
    let meta = meta.map_err(|e| throw(&ctx, e, if follow { "stat" } else { "lstat" }, Some(&path)))?;
    stat_object(ctx, &meta)
}

/// What the prelude's `Stats` is built from.
pub(crate) fn stat_object<'js>(ctx: Ctx<'js>, meta: &std::fs::Metadata) -> rquickjs::Result<Object<'js>> {
    let millis = |t: io::Result<SystemTime>| {
        t.ok().and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let modified = millis(meta.modified());
    let stats = Object::new(ctx)?;
    stats.set("size", meta.len() as f64)?;
    stats.set("kind", kind_of(&meta.file_type()))?;
    stats.set("mtimeMs", modified)?;
    stats.set("atimeMs", meta.accessed().map_or(modified, |t| millis(Ok(t))))?;
    stats.set("birthtimeMs", meta.created().map_or(modified, |t| millis(Ok(t))))?;
    Ok(stats)
}

fn rename(ctx: Ctx<'_>, from: String, to: String) -> rquickjs::Result<()> {
    std::fs::rename(&from, &to).map_err(|e| throw(&ctx, e, "rename", Some(&format!("{from}' -> '{to}"))))
}

fn copy_file(ctx: Ctx<'_>, from: String, to: String) -> rquickjs::Result<()> {
    std::fs::copy(&from, &to).map(drop).map_err(|e| throw(&ctx, e, "copyfile", Some(&format!("{from}' -> '{to}"))))
}

fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_symlink() {
        "symlink"
    } else if file_type.is_dir() {
        "dir"
    } else if file_type.is_file() {
        "file"
    } else {
        "other"
    }
}

/// A Node-style error, e.g. `ENOENT: no such file or directory, open '/x'`.
pub(crate) fn throw(ctx: &Ctx<'_>, error: io::Error, syscall: &str, path: Option<&str>) -> rquickjs::Error {
    let (code, description) = describe(&error);
    let message = match path {
        Some(path) => format!("{code}: {description}, {syscall} '{path}'"),
        None => format!("{code}: {description}, {syscall}"),
    };
    let exception = match Exception::from_message(ctx.clone(), &message) {
        Ok(exception) => exception,
        Err(e) => return e,
    };
    let object = exception.as_object();
    for (key, value) in [("code", Some(code)), ("syscall", Some(syscall)), ("path", path)] {
        if let Some(value) = value
            && let Err(e) = object.set(key, value)
        {
            return e;
        }
    }
    exception.throw()
}

fn describe(error: &io::Error) -> (&'static str, String) {
    use io::ErrorKind as K;
    match error.raw_os_error() {
        Some(ENOTCAPABLE) => return ("EACCES", "permission denied (outside the sandbox's mounts)".into()),
        Some(EBADF) => return ("EBADF", "bad file descriptor".into()),
        Some(EMFILE) => return ("EMFILE", "too many open files".into()),
        Some(ENOTEMPTY) => return ("ENOTEMPTY", "directory not empty".into()),
        _ => {}
    }
    let code = match error.kind() {
        K::NotFound => "ENOENT",
        K::PermissionDenied => "EACCES",
        K::AlreadyExists => "EEXIST",
        K::NotADirectory => "ENOTDIR",
        K::IsADirectory => "EISDIR",
        K::DirectoryNotEmpty => "ENOTEMPTY",
        K::ReadOnlyFilesystem => "EROFS",
        K::InvalidInput => "EINVAL",
        K::CrossesDevices => "EXDEV",
        K::StorageFull => "ENOSPC",
        _ if error.raw_os_error() == Some(63) => "EPERM",
        _ => "EIO",
    };
    let description = match code {
        "ENOENT" => "no such file or directory".to_string(),
        "EACCES" => "permission denied".to_string(),
        "EPERM" => "operation not permitted (read-only mount?)".to_string(),
        "EEXIST" => "file already exists".to_string(),
        "ENOTDIR" => "not a directory".to_string(),
        "EISDIR" => "illegal operation on a directory".to_string(),
        "ENOTEMPTY" => "directory not empty".to_string(),
        _ => error.to_string(),
    };
    (code, description)
}
