//! Typed inputs of YAML runbooks: declared with a type and an
//! optional default, checked before anything runs.

use serde_json::{Number, Value};

/// An input's type, as a YAML runbook spells it (the JSON Schema's enum is
/// made from this).
#[derive(Clone, Copy, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "The input's type: what a given value is checked and converted to.")]
pub enum InputType {
    String,
    Int,
    Bool,
    Number,
    List,
    Map,
}

impl InputType {
    pub fn parse(name: &str) -> Option<InputType> {
        Some(match name {
            "string" | "str" => InputType::String,
            "int" | "integer" => InputType::Int,
            "bool" | "boolean" => InputType::Bool,
            "number" | "float" => InputType::Number,
            "list" | "array" => InputType::List,
            "map" | "object" => InputType::Map,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Int => "int",
            InputType::Bool => "bool",
            InputType::Number => "number",
            InputType::List => "list",
            InputType::Map => "map",
        }
    }

    /// `value` as this type. Text (from `--input k=v` or a quoted default)
    /// is parsed: `5000` as an int, `true` as a bool, JSON for lists and
    /// maps (a list may also be comma-separated).
    pub fn coerce(self, value: &Value) -> Result<Value, String> {
        let wrong = || format!("expected {}, got {}", self.describe(), shown(value));
        match (self, value) {
            (InputType::String, Value::String(_)) => Ok(value.clone()),
            (InputType::String, Value::Number(_) | Value::Bool(_)) => Ok(Value::String(value.to_string())),
            (InputType::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(value.clone()),
            (InputType::Int, Value::String(s)) => {
                s.trim().parse::<i64>().map(|n| Value::Number(n.into())).map_err(|_| wrong())
            }
            (InputType::Number, Value::Number(_)) => Ok(value.clone()),
            (InputType::Number, Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|f| if s.trim().parse::<i64>().is_ok() { None } else { Number::from_f64(f) })
                .map(Value::Number)
                .or_else(|| s.trim().parse::<i64>().ok().map(|n| Value::Number(n.into())))
                .ok_or_else(wrong),
            (InputType::Bool, Value::Bool(_)) => Ok(value.clone()),
            (InputType::Bool, Value::String(s)) => match s.trim() {
                "true" | "yes" | "1" => Ok(Value::Bool(true)),
                "false" | "no" | "0" => Ok(Value::Bool(false)),
                _ => Err(wrong()),
            },
            (InputType::List, Value::Array(_)) | (InputType::Map, Value::Object(_)) => Ok(value.clone()),
            (InputType::List, Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(list @ Value::Array(_)) => Ok(list),
                _ if s.trim().starts_with('[') => Err(wrong()),
                _ => Ok(Value::Array(
                    s.split(',').map(str::trim).filter(|v| !v.is_empty()).map(|v| Value::String(v.into())).collect(),
                )),
            },
            (InputType::Map, Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(map @ Value::Object(_)) => Ok(map),
                _ => Err(wrong()),
            },
            _ => Err(wrong()),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            InputType::String => "a string",
            InputType::Int => "an int",
            InputType::Bool => "a bool (true or false)",
            InputType::Number => "a number",
            InputType::List => "a list (JSON array or comma-separated)",
            InputType::Map => "a map (JSON object)",
        }
    }
}

fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    };
    if text.chars().count() > 60 { format!("{}…`", text.chars().take(58).collect::<String>()) } else { text }
}

/// A declared input.
#[derive(Clone, Debug, PartialEq)]
pub struct InputSpec {
    pub name: String,
    pub kind: InputType,
    /// Already of `kind`; `None` makes the input required.
    pub default: Option<Value>,
    pub description: String,
    pub line: usize,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_is_coerced_to_the_declared_type() {
        assert_eq!(InputType::Int.coerce(&json!("100")), Ok(json!(100)));
        assert_eq!(InputType::Bool.coerce(&json!("false")), Ok(json!(false)));
        assert_eq!(InputType::Number.coerce(&json!("0.5")), Ok(json!(0.5)));
        assert_eq!(InputType::List.coerce(&json!("a, b")), Ok(json!(["a", "b"])));
        assert_eq!(InputType::List.coerce(&json!("[1,2]")), Ok(json!([1, 2])));
        assert_eq!(InputType::Map.coerce(&json!("{\"k\":1}")), Ok(json!({"k": 1})));
        assert!(InputType::Int.coerce(&json!("12abc")).unwrap_err().contains("expected an int, got `12abc`"));
        assert!(InputType::Int.coerce(&json!(1.5)).is_err());
        assert!(InputType::Map.coerce(&json!("[1]")).is_err());
    }
}
