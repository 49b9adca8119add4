//! The native half of `fetch`: one request through the host's `http`
//! import, which allows only the hosts the step was granted.

use rquickjs::{Ctx, Exception, Function, Object, TypedArray, Value};

use crate::runbox::sandbox::http::{self, Request};

pub(crate) fn register<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    native.set("fetch", Function::new(ctx.clone(), fetch)?)?;
    native.set(
        "utf8",
        Function::new(ctx.clone(), |bytes: TypedArray<'_, u8>| {
            String::from_utf8_lossy(&crate::fs::bytes_of(&bytes)).into_owned()
        })?,
    )?;
    Ok(())
}

fn fetch<'js>(
    ctx: Ctx<'js>,
    method: String,
    url: String,
    headers: Vec<Vec<String>>,
    body: Value<'js>,
    follow_redirects: bool,
) -> rquickjs::Result<Object<'js>> {
    let body = crate::fs::data_bytes(body)?;
    let headers = headers.into_iter().filter_map(|pair| Some((pair.first()?.clone(), pair.get(1)?.clone()))).collect();
    let request = Request { method, url, headers, body, follow_redirects };
    let response = http::send(&request).map_err(|e| {
        let (code, message) = match e {
            http::Error::Denied(host) => {
                ("EACCES", format!("runbox: the sandbox may not reach {host} (not an allowed host)"))
            }
            http::Error::Invalid(why) => ("ERR_INVALID_URL", why),
            http::Error::Failed(why) => ("ECONNREFUSED", why),
            http::Error::Timeout => ("ETIMEDOUT", "the step's deadline passed during the request".into()),
            http::Error::TooLarge(limit) => ("ERR_TOO_LARGE", format!("the response is larger than {limit} bytes")),
        };
        match Exception::from_message(ctx.clone(), &format!("fetch failed: {message}")) {
            Ok(exception) => {
                let _ = exception.as_object().set("code", code);
                let _ = exception.as_object().set("name", "TypeError");
                exception.throw()
            }
            Err(e) => e,
        }
    })?;
    let out = Object::new(ctx.clone())?;
    out.set("status", response.status)?;
    out.set("url", response.url)?;
    out.set("headers", response.headers.into_iter().map(|(k, v)| vec![k, v]).collect::<Vec<_>>())?;
    out.set("body", TypedArray::<u8>::new(ctx, response.body)?)?;
    Ok(out)
}
