//! Values of secret-looking variables, masked as `***` in everything a run
//! keeps (History, the JSON record, `--json`) and in the steps' live output
//! (a terminal, a CI log), the way CI systems mask secrets: a step that
//! prints `$API_TOKEN` must not write the token into a runbook file that
//! gets committed, nor into a CI job's log.

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

    /// No value to mask.
    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
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

/// A masker for output as it streams: a secret split across two writes is
/// still masked, because the end of a write that could begin a secret is
/// held back until the next write (or the step's end) says what follows.
#[derive(Debug, Default)]
pub(crate) struct LiveMask {
    masker: Masker,
    /// Held back, per stream: the longest end that begins some secret.
    pending: [Vec<u8>; 2],
}

impl LiveMask {
    pub(crate) fn new(masker: Masker) -> LiveMask {
        LiveMask { masker, pending: [Vec::new(), Vec::new()] }
    }

    /// What of `bytes`, written to stream `stream` (0 or 1), can be shown
    /// now, masked.
    pub(crate) fn write(&mut self, stream: usize, bytes: &[u8]) -> Vec<u8> {
        if self.masker.values.is_empty() {
            return bytes.to_vec();
        }
        let mut text = std::mem::take(&mut self.pending[stream]);
        text.extend_from_slice(bytes);
        let mut masked = self.replace(&text);
        let held = self.unfinished(&masked);
        self.pending[stream] = masked.split_off(masked.len() - held);
        masked
    }

    /// What was held back of stream `stream`: at the step's end nothing
    /// more can complete a secret.
    pub(crate) fn flush(&mut self, stream: usize) -> Vec<u8> {
        std::mem::take(&mut self.pending[stream])
    }

    /// `text` with every whole secret replaced, longest first.
    fn replace(&self, text: &[u8]) -> Vec<u8> {
        let mut text = text.to_vec();
        for value in &self.masker.values {
            let value = value.as_bytes();
            if find(&text, value).is_none() {
                continue;
            }
            let mut out = Vec::with_capacity(text.len());
            let mut rest = &text[..];
            while let Some(at) = find(rest, value) {
                out.extend_from_slice(&rest[..at]);
                out.extend_from_slice(MASK.as_bytes());
                rest = &rest[at + value.len()..];
            }
            out.extend_from_slice(rest);
            text = out;
        }
        text
    }

    /// How many bytes at the end of `text` could be the start of a secret:
    /// from the earliest place that could, each a comparison that fails at
    /// its first byte but where a secret's start stands.
    fn unfinished(&self, text: &[u8]) -> usize {
        let longest = self.masker.values.first().map_or(0, String::len);
        let from = text.len().saturating_sub(longest.saturating_sub(1));
        (from..text.len())
            .find(|&at| {
                let tail = &text[at..];
                self.masker.values.iter().any(|v| v.len() > tail.len() && v.as_bytes().starts_with(tail))
            })
            .map_or(0, |at| text.len() - at)
    }
}

/// Where `needle` (not empty) first appears in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
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

    #[test]
    fn live_output_is_masked_also_when_a_secret_is_split_across_writes() {
        let masker = Masker::new(&[("API_TOKEN".to_string(), "supersecret123".to_string())]);
        let mut live = LiveMask::new(masker);
        let mut shown = Vec::new();
        for chunk in ["tok=super", "sec", "ret123\nsu", "n is up\nsuper", "secret123"] {
            shown.extend(live.write(0, chunk.as_bytes()));
        }
        // What could still begin the secret waits; the rest is shown at once.
        assert_eq!(String::from_utf8_lossy(&shown), "tok=***\nsun is up\n***");
        shown.extend(live.write(0, b"\nlast supers"));
        assert_eq!(live.flush(0), b"supers");
        assert_eq!(live.flush(1), b"");
        // Without secrets, bytes pass as written.
        let mut plain = LiveMask::default();
        assert_eq!(plain.write(1, b"super"), b"super");
    }
}
