//! The native half of `URL`: WHATWG URL parsing and its setters, by the
//! `url` crate (Servo's, which follows the URL Standard and its tests).

use rquickjs::{Ctx, Function, Object};
use url::{Url, quirks};

pub(crate) fn register<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    native.set("urlParse", Function::new(ctx.clone(), parse)?)?;
    native.set("urlSet", Function::new(ctx.clone(), set)?)?;
    Ok(())
}

/// `href, origin, protocol, username, password, host, hostname, port,
/// pathname, search, hash`, the order the prelude's `URL` reads them in.
fn parts(url: &Url) -> Vec<String> {
    vec![
        quirks::href(url).to_string(),
        quirks::origin(url),
        quirks::protocol(url).to_string(),
        quirks::username(url).to_string(),
        quirks::password(url).to_string(),
        quirks::host(url).to_string(),
        quirks::hostname(url).to_string(),
        quirks::port(url).to_string(),
        quirks::pathname(url).to_string(),
        quirks::search(url).to_string(),
        quirks::hash(url).to_string(),
    ]
}

/// `input` against `base`: its parts, or nothing when either is not a URL.
fn parse(input: String, base: Option<String>) -> Option<Vec<String>> {
    let url = match base {
        Some(base) => Url::parse(&base).ok()?.join(&input).ok()?,
        None => Url::parse(&input).ok()?,
    };
    Some(parts(&url))
}

/// `href` with one part set as the URL Standard's setter does (a value it
/// rejects leaves the URL as it was); nothing when `href` is not a URL.
fn set(href: String, part: String, value: String) -> Option<Vec<String>> {
    let mut url = Url::parse(&href).ok()?;
    match part.as_str() {
        "href" => url = Url::parse(&value).ok()?,
        "protocol" => drop(quirks::set_protocol(&mut url, &value)),
        "username" => drop(quirks::set_username(&mut url, &value)),
        "password" => drop(quirks::set_password(&mut url, &value)),
        "host" => drop(quirks::set_host(&mut url, &value)),
        "hostname" => drop(quirks::set_hostname(&mut url, &value)),
        "port" => drop(quirks::set_port(&mut url, &value)),
        "pathname" => quirks::set_pathname(&mut url, &value),
        "search" => quirks::set_search(&mut url, &value),
        "hash" => quirks::set_hash(&mut url, &value),
        _ => {}
    }
    Some(parts(&url))
}
