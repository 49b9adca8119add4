//! `curl` inside the sandbox: the common flags, with every request sent
//! through the host's `http` import (which allows only granted hosts).
//! Exit statuses follow curl's: 3 bad URL, 6/7 unreachable or refused,
//! 22 HTTP error with `-f`, 26 unreadable data file, 28 timeout, 63 too large.

use std::path::Path;

use bashkit::{Builtin, BuiltinContext, ExecResult, async_trait};

use crate::runbox::sandbox::http::{self, Request};

pub(crate) struct Curl;

#[derive(Default)]
struct Options {
    url: Option<String>,
    method: Option<String>,
    headers: Vec<(String, String)>,
    data: Option<Vec<u8>>,
    output: Option<String>,
    write_out: Option<String>,
    fail: bool,
    silent: bool,
    show_error: bool,
    follow: bool,
    include: bool,
    head: bool,
}

/// A failure as curl reports it: `curl: (N) message`.
struct Fail(i32, String);

#[async_trait]
impl Builtin for Curl {
    async fn execute(&self, ctx: BuiltinContext<'_>) -> bashkit::Result<ExecResult> {
        let options = match parse(ctx.args) {
            Ok(o) => o,
            Err(Fail(code, message)) => return Ok(ExecResult::err(format!("curl: ({code}) {message}\n"), code)),
        };
        let silent = options.silent && !options.show_error;
        match run(&ctx, &options).await {
            Ok(result) => Ok(result),
            Err(Fail(code, _)) if silent => Ok(ExecResult::err(String::new(), code)),
            Err(Fail(code, message)) => Ok(ExecResult::err(format!("curl: ({code}) {message}\n"), code)),
        }
    }
}

fn parse(args: &[String]) -> Result<Options, Fail> {
    let mut o = Options::default();
    let mut args = args.iter();
    let usage = |flag: &str| Fail(2, format!("option {flag}: requires parameter"));
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().cloned().ok_or_else(|| usage(flag));
        match arg.as_str() {
            "-X" | "--request" => o.method = Some(value(arg)?),
            "-H" | "--header" => {
                let header = value(arg)?;
                let (name, val) = header.split_once(':').ok_or_else(|| Fail(2, format!("bad header `{header}`")))?;
                o.headers.push((name.trim().to_string(), val.trim().to_string()));
            }
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--data-ascii" => {
                let text = value(arg)?;
                let joined = match o.data.take() {
                    Some(mut previous) => {
                        previous.push(b'&');
                        previous.extend_from_slice(text.as_bytes());
                        previous
                    }
                    None => text.into_bytes(),
                };
                o.data = Some(joined);
            }
            "-o" | "--output" => o.output = Some(value(arg)?),
            "-w" | "--write-out" => o.write_out = Some(value(arg)?),
            "--url" => o.url = Some(value(arg)?),
            "-f" | "--fail" => o.fail = true,
            "-s" | "--silent" => o.silent = true,
            "-S" | "--show-error" => o.show_error = true,
            "-L" | "--location" => o.follow = true,
            "-i" | "--include" => o.include = true,
            "-I" | "--head" => o.head = true,
            flags if flags.starts_with('-') && !flags.starts_with("--") && flags.len() > 2 => {
                for flag in flags[1..].chars() {
                    match flag {
                        'f' => o.fail = true,
                        's' => o.silent = true,
                        'S' => o.show_error = true,
                        'L' => o.follow = true,
                        'i' => o.include = true,
                        'I' => o.head = true,
                        other => return Err(Fail(2, format!("option -{other}: is unknown to runbox's curl"))),
                    }
                }
            }
            unknown if unknown.starts_with('-') => {
                return Err(Fail(2, format!("option {unknown}: is unknown to runbox's curl")));
            }
            url => o.url = Some(url.to_string()),
        }
    }
    Ok(o)
}

/// `-d @file` reads the body from a file, as curl does.
async fn body(ctx: &BuiltinContext<'_>, data: &[u8]) -> Result<Vec<u8>, Fail> {
    match data.strip_prefix(b"@") {
        Some(file) => {
            let file = String::from_utf8_lossy(file).into_owned();
            let path = ctx.cwd.join(&file);
            ctx.fs.read_file(&path).await.map_err(|e| Fail(26, format!("Failed to open {file}: {e}")))
        }
        None => Ok(data.to_vec()),
    }
}

async fn run(ctx: &BuiltinContext<'_>, o: &Options) -> Result<ExecResult, Fail> {
    let url = o.url.clone().ok_or_else(|| Fail(2, "no URL specified".into()))?;
    let url = if url.contains("://") { url } else { format!("http://{url}") };
    let body = match &o.data {
        Some(data) => body(ctx, data).await?,
        None => Vec::new(),
    };
    let method = o.method.clone().unwrap_or_else(|| {
        if o.head {
            "HEAD".into()
        } else if o.data.is_some() {
            "POST".into()
        } else {
            "GET".into()
        }
    });
    let mut headers = o.headers.clone();
    if o.data.is_some() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        headers.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
    }
    let request = Request { method, url: url.clone(), headers, body, follow_redirects: o.follow };
    let response = http::send(&request).map_err(|e| match e {
        http::Error::Denied(host) => Fail(7, format!("runbox: the sandbox may not reach {host} (not an allowed host)")),
        http::Error::Invalid(why) => Fail(3, format!("URL rejected: {why}")),
        http::Error::Failed(why) => Fail(7, format!("Failed to connect: {why}")),
        http::Error::Timeout => Fail(28, "Operation timed out (the step's deadline)".into()),
        http::Error::TooLarge(limit) => Fail(63, format!("Maximum file size exceeded ({limit} bytes)")),
    })?;
    if o.fail && response.status >= 400 {
        return Err(Fail(22, format!("The requested URL returned error: {}", response.status)));
    }
    let mut out = Vec::new();
    if o.include || o.head {
        out.extend_from_slice(format!("HTTP/1.1 {}\r\n", response.status).as_bytes());
        for (name, value) in &response.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    match &o.output {
        Some(file) if file == "/dev/null" => {}
        Some(file) if file != "-" => {
            let path = ctx.cwd.join(Path::new(file));
            ctx.fs
                .write_file(&path, &response.body)
                .await
                .map_err(|e| Fail(23, format!("Failed writing {file}: {e}")))?;
        }
        _ => out.extend_from_slice(&response.body),
    }
    if let Some(format) = &o.write_out {
        out.extend_from_slice(write_out(format, response.status, &response.url).as_bytes());
    }
    Ok(ExecResult::ok_bytes(out))
}

/// `-w`: `%{http_code}`, `%{response_code}`, `%{url_effective}`, `\n`.
fn write_out(format: &str, status: u16, url: &str) -> String {
    format
        .replace("%{http_code}", &format!("{status:03}"))
        .replace("%{response_code}", &status.to_string())
        .replace("%{url_effective}", url)
        .replace("\\n", "\n")
        .replace("\\t", "\t")
}
