//! `runbook NAME [--env K=V]... [--input K=V]...` inside the sandbox: runs a
//! runbook beside the current one as a child of this execution, through the
//! host's `runbooks` import. Like a command: the child's stdout and stderr
//! are the builtin's, its exit status the builtin's; a child refused before
//! it ran prints `runbook: Code: message` with runbox's status for it.

use bashkit::{Builtin, BuiltinContext, ExecResult, async_trait};

use crate::runbox::sandbox::runbooks;

pub(crate) struct Runbook;

const USAGE: &str = "usage: runbook NAME [--env K=V]... [--input K=V]...";

#[async_trait]
impl Builtin for Runbook {
    async fn execute(&self, ctx: BuiltinContext<'_>) -> bashkit::Result<ExecResult> {
        let mut name = None;
        let mut env = Vec::new();
        let mut inputs = serde_json::Map::new();
        let mut args = ctx.args.iter();
        while let Some(arg) = args.next() {
            let pair = |flag: &str, value: Option<&String>| match value.and_then(|v| v.split_once('=')) {
                Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
                _ => Err(format!("runbook: {flag} takes KEY=VALUE\n{USAGE}\n")),
            };
            let parsed = match arg.as_str() {
                "--env" => pair("--env", args.next()).map(|kv| env.push(kv)),
                "--input" => pair("--input", args.next()).map(|(k, v)| drop(inputs.insert(k, v.into()))),
                flag if flag.starts_with('-') => Err(format!("runbook: unknown option {flag}\n{USAGE}\n")),
                _ if name.is_some() => Err(format!("runbook: one runbook at a time\n{USAGE}\n")),
                _ => {
                    name = Some(arg.clone());
                    Ok(())
                }
            };
            if let Err(message) = parsed {
                return Ok(ExecResult::err(message, 2));
            }
        }
        let Some(name) = name else { return Ok(ExecResult::err(format!("{USAGE}\n"), 2)) };
        let inputs = serde_json::Value::Object(inputs).to_string();
        Ok(match runbooks::call(&name, &env, &inputs) {
            Ok(called) => ExecResult {
                stdout: called.stdout.into(),
                stderr: called.stderr.into(),
                exit_code: called.exit_code,
                ..Default::default()
            },
            Err(refused) => {
                ExecResult::err(format!("runbook: {}: {}\n", refused.code, refused.message), refused.exit_status)
            }
        })
    }
}
