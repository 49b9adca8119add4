//! The guests' `runbooks` import: a step's sub-runbook calls, handed to the
//! [`Calls`](crate::sandbox::Calls) its run gave it.

use serde_json::{Map, Value};

use crate::error::{ErrorCode, Failure};
use crate::sandbox::bindings::js::runbox::sandbox::runbooks::{self, Called, Refused};
use crate::sandbox::calls::Call;
use crate::sandbox::store::StepState;

fn refused(failure: Failure) -> Refused {
    Refused { code: failure.code.to_string(), exit_status: failure.code.exit_status(), message: failure.message }
}

impl runbooks::Host for StepState {
    fn call(&mut self, name: String, env: Vec<(String, String)>, inputs: String) -> Result<Called, Refused> {
        let invalid = |message: &str| refused(Failure::new(ErrorCode::ConfigInvalid, message));
        let Some(calls) = self.calls.clone() else {
            return Err(invalid("sub-runbooks are called from a runbook's steps, not from runbox sh or js"));
        };
        let inputs = match serde_json::from_str::<Value>(&inputs) {
            Ok(Value::Object(inputs)) => inputs,
            Ok(Value::Null) => Map::new(),
            _ => return Err(invalid("a sub-runbook's inputs are an object of names and values")),
        };
        let called = calls.call(Call { runbook: name, env, inputs, deadline: self.deadline }).map_err(refused)?;
        Ok(Called {
            exit_code: called.exit_code,
            stdout: called.stdout,
            stderr: called.stderr,
            result: called.result.map(|r| r.to_string()),
        })
    }
}
