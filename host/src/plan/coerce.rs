//! The inputs a run gets: given values coerced to their declared
//! types, defaults for the rest, every problem reported at once.

use serde_json::{Map, Value};

use crate::error::Problem;
use crate::model::inputs::InputSpec;

/// The inputs a run gets: each given value coerced to its declared type,
/// defaults for the rest. Every problem is reported: unknown names, wrong
/// types, and (when `require`) missing required inputs.
pub fn check(
    specs: &[InputSpec],
    given: &Map<String, Value>,
    require: bool,
) -> Result<Map<String, Value>, Vec<Problem>> {
    let mut values = Map::new();
    let mut problems = Vec::new();
    for (name, _) in given.iter().filter(|(name, _)| !specs.iter().any(|s| &s.name == *name)) {
        let known: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let known =
            if known.is_empty() { "it declares none".to_string() } else { format!("it declares {}", known.join(", ")) };
        let problem = Problem::new(0, format!("unknown input `{name}`: the runbook does not declare it ({known})"));
        problems.push(match crate::text::nearest(name, specs.iter().map(|s| s.name.as_str())) {
            Some(meant) => problem.help(format!("did you mean `--input {meant}=…`?")),
            None => problem,
        });
    }
    for spec in specs {
        match (given.get(&spec.name), &spec.default) {
            (Some(value), _) => match spec.kind.coerce(value) {
                Ok(v) => {
                    values.insert(spec.name.clone(), v);
                }
                Err(e) => problems.push(Problem::new(spec.line, format!("input `{}`: {e}", spec.name))),
            },
            (None, Some(default)) => {
                values.insert(spec.name.clone(), default.clone());
            }
            (None, None) if !require => {}
            (None, None) => problems.push(Problem::missing(
                spec.line,
                format!(
                    "input `{}` ({}) is required: give it with --input {}=VALUE",
                    spec.name,
                    spec.kind.as_str(),
                    spec.name
                ),
            )),
        }
    }
    if problems.is_empty() { Ok(values) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::inputs::InputType;

    fn spec(name: &str, kind: InputType, default: Option<Value>) -> InputSpec {
        InputSpec { name: name.into(), kind, default, description: String::new(), line: 3 }
    }

    #[test]
    fn every_input_problem_is_reported() {
        let specs = [spec("threshold_ms", InputType::Int, Some(json!(5000))), spec("host", InputType::String, None)];
        let given: Map<String, Value> =
            [("threshold_ms".to_string(), json!("soon")), ("thresold".to_string(), json!("1"))].into_iter().collect();
        let problems = check(&specs, &given, true).unwrap_err();
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("unknown input `thresold`")));
        assert!(messages.iter().any(|m| m.contains("input `threshold_ms`: expected an int")));
        assert!(messages.iter().any(|m| m.contains("input `host` (string) is required")));
    }

    #[test]
    fn defaults_fill_what_is_not_given() {
        let specs = [spec("threshold_ms", InputType::Int, Some(json!(5000)))];
        assert_eq!(check(&specs, &Map::new(), true).unwrap()["threshold_ms"], json!(5000));
    }
}
