//! Values of secret-looking variables, masked as `***` in everything a run
//! keeps (History, the JSON record, `--json`), the way CI systems mask
//! secrets: a step that prints `$API_TOKEN` must not write the token into a
//! runbook file that gets committed.

use serde_json::Value;

/// Variable names whose values are masked (matched case-insensitively).
const SECRET_WORDS: &[&str] = &["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "PRIVATE"];
/// Shorter values are left alone: masking `1` or `no` everywhere would hide
/// the output, not the secret.
pub const MIN_MASKED_LEN: usize = 4;
pub const MASK: &str = "***";

/// Whether a variable of this name holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| upper.contains(w))
}

/// The secret values of one run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Masker {
    /// Longest first, so a value containing another is masked whole.
    values: Vec<String>,
}

impl Masker {
    /// The values of `variables` whose names look secret.
    pub(crate) fn new(variables: &[(String, String)]) -> Masker {
        let mut values: Vec<String> = variables
            .iter()
            .filter(|(name, value)| is_secret_name(name) && value.len() >= MIN_MASKED_LEN)
            .map(|(_, value)| value.clone())
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Masker { values }
    }

    pub(crate) fn text(&self, text: &mut String) {
        for value in &self.values {
            if text.contains(value.as_str()) {
                *text = text.replace(value.as_str(), MASK);
            }
        }
    }

    pub(crate) fn json(&self, value: &mut Value) {
        match value {
            Value::String(s) => self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            // Keys too: a secret can be a result's key as well as a value.
            Value::Object(fields) if fields.keys().any(|k| self.values.iter().any(|v| k.contains(v.as_str()))) => {
                for (mut key, mut value) in std::mem::take(fields) {
                    self.text(&mut key);
                    self.json(&mut value);
                    // Two keys masked alike are both kept.
                    let mut unique = key.clone();
                    let mut n = 2;
                    while fields.contains_key(&unique) {
                        unique = format!("{key} ({n})");
                        n += 1;
                    }
                    fields.insert(unique, value);
                }
            }
            Value::Object(fields) => fields.values_mut().for_each(|v| self.json(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_values_are_masked_wherever_they_appear() {
        let vars = [
            ("API_TOKEN".to_string(), "tok-123456".to_string()),
            ("db_password".to_string(), "hunter2!".to_string()),
            ("SHORT_KEY".to_string(), "ab".to_string()),
            ("REGION".to_string(), "eu-west-1".to_string()),
        ];
        let masker = Masker::new(&vars);
        let mut text = "t=tok-123456 p=hunter2! k=ab r=eu-west-1".to_string();
        masker.text(&mut text);
        assert_eq!(text, "t=*** p=*** k=ab r=eu-west-1");
        let mut json = serde_json::json!({"a": ["x tok-123456"], "b": 1});
        masker.json(&mut json);
        assert_eq!(json, serde_json::json!({"a": ["x ***"], "b": 1}));
    }
}
