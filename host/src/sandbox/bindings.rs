//! The host bindings of runbox's WIT worlds (`wit/runbox.wit`): `js` and
//! `sh` share the `context`, `http`, `runbooks` and `script` interfaces; `files`
//! is the shell's alone.

pub(crate) mod js {
    wasmtime::component::bindgen!({ path: "../wit", world: "js" });
}
pub(crate) mod sh {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "sh",
        with: {
            "runbox:sandbox/context": crate::sandbox::bindings::js::runbox::sandbox::context,
            "runbox:sandbox/http": crate::sandbox::bindings::js::runbox::sandbox::http,
            "runbox:sandbox/runbooks": crate::sandbox::bindings::js::runbox::sandbox::runbooks,
            "runbox:sandbox/script": crate::sandbox::bindings::js::runbox::sandbox::script,
        },
    });
}
