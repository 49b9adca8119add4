//! `{{ … }}` templates in YAML runbooks: `{{ inputs.x }}`,
//! `{{ .Inputs.x }}` (the Go-template spelling), `{{ steps.a.stdout }}`,
//! `{{ steps.a.exit_code }}`, `{{ steps.a.result.field }}`.
//!
//! Values are inserted as data, never as code. In shell scripts a template
//! becomes a reference to a variable that holds the value, quoted for where
//! it stands (`"${RUNBOX_TEMPLATE_1}"` in a bare word, `${…}` inside double
//! quotes), so the value is never parsed as shell: `x; rm -rf /out` stays one
//! word. In JavaScript it becomes a `get(…)` call. In `args`, `env` and `cwd`
//! the value's text is used as it is. Text that is not one of these paths,
//! such as a Go template `{{.Names}}` in a `--format` flag, is left alone.
//!
//! Pure text in, text out: imports nothing of the crate (values arrive as
//! JSON in a [`Scope`]); `plan/` checks references, `run/` expands them.

pub mod js;
mod lex;
mod reference;
pub mod shell;

pub use js::{JsExpansion, expand_js};
pub use reference::{Reference, Scope, TemplateError, expand_plain, references, text_of};
pub use shell::{ShellExpansion, expand_shell};
