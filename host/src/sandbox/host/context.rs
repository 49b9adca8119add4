//! The guests' `context` import: variables, earlier steps' results, the
//! correlation id and the recursion stack, never the host's environment.

use crate::sandbox::bindings::js::runbox::sandbox::{context, script};
use crate::sandbox::store::StepState;

impl context::Host for StepState {
    fn get(&mut self, name: String) -> Option<String> {
        match name.as_str() {
            "steps" => serde_json::to_string(&*self.steps).ok(),
            _ => self.variables.get(&name).map(|v| v.to_string()),
        }
    }

    fn correlation_id(&mut self) -> String {
        self.correlation_id.clone()
    }

    fn recursion_stack(&mut self) -> Vec<String> {
        self.recursion_stack.clone()
    }
}

impl script::Host for StepState {}
