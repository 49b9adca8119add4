//! Per-step resource limits and the text forms users write them in
//! (`30s`, `500ms`, `64MiB`, `2_000_000_000`).

use std::time::Duration;

use serde::Serialize;

/// What one step may consume before it is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Limits {
    /// Wall-clock deadline, host calls included.
    #[serde(serialize_with = "as_millis", rename = "timeout_ms")]
    #[schema(value_type = u64)]
    pub timeout: Duration,
    /// Deterministic instruction budget (wasmtime fuel).
    pub fuel: u64,
    /// Linear memory of the guest, in bytes.
    pub memory: u64,
    /// Bytes kept of each of stdout and stderr.
    pub output: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { timeout: Duration::from_secs(30), fuel: 100_000_000_000, memory: 256 << 20, output: 1 << 20 }
    }
}

/// Overrides for some of the limits: a step's attributes, a runbook's
/// defaults or command-line flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimitOverrides {
    pub timeout: Option<Duration>,
    pub fuel: Option<u64>,
    pub memory: Option<u64>,
    pub output: Option<usize>,
}

impl LimitOverrides {
    /// `self` where set, `base` otherwise.
    pub fn apply(&self, base: Limits) -> Limits {
        Limits {
            timeout: self.timeout.unwrap_or(base.timeout),
            fuel: self.fuel.unwrap_or(base.fuel),
            memory: self.memory.unwrap_or(base.memory),
            output: self.output.unwrap_or(base.output),
        }
    }
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(d.as_millis())
}

/// `30s`, `1.5s`, `500ms`, `2m`, `1h`, or Go's sums such as `1h30m` and
/// `2m30s`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let not_a_duration = || format!("`{text}` is not a duration (try 30s, 500ms, 2m, 1h30m)");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(not_a_duration());
    }
    let mut seconds = 0.0;
    let mut parts = 0;
    while !rest.is_empty() {
        let split = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(rest.len());
        let (number, after) = rest.split_at(split);
        let value: f64 = number.replace('_', "").parse().map_err(|_| not_a_duration())?;
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        seconds += value
            * match unit.trim() {
                "" if parts == 0 && after.is_empty() => 1.0,
                "s" | "sec" | "secs" => 1.0,
                "ms" => 0.001,
                "m" | "min" => 60.0,
                "h" => 3600.0,
                "" => return Err(not_a_duration()),
                other => return Err(format!("unknown unit `{other}` in duration `{text}` (use ms, s, m or h)")),
            };
        parts += 1;
        rest = after;
    }
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(format!("duration `{text}` must be positive"));
    }
    if seconds > MAX_TIMEOUT.as_secs_f64() {
        return Err(format!(
            "duration `{text}` is longer than the longest a step may run ({}h)",
            MAX_TIMEOUT.as_secs() / 3600
        ));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is not a duration (try 30s, 500ms, 2m)"))
}

/// The longest wall-clock limit a step may have: a week.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// The most output kept per stream of a step (it is held in memory).
pub const MAX_OUTPUT: u64 = 1 << 30;

/// An output limit: a size of at most [`MAX_OUTPUT`].
pub fn parse_output(text: &str) -> Result<usize, String> {
    let size = parse_size(text)?;
    if size > MAX_OUTPUT {
        return Err(format!("output limit `{text}` is more than the {} GiB runbox keeps per stream", MAX_OUTPUT >> 30));
    }
    Ok(size as usize)
}

/// `64MiB`, `1GiB`, `512KiB`, `10MB`, `4096`; a bare number is bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '_')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: u64 =
        number.replace('_', "").parse().map_err(|_| format!("`{text}` is not a size (try 64MiB, 1GiB, 4096)"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => return Err(format!("unknown unit `{other}` in size `{text}` (use KiB, MiB or GiB)")),
    };
    value
        .checked_mul(scale)
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("size `{text}` must be positive and fit in 64 bits"))
}

/// A fuel budget: a positive integer, `_` allowed as a separator.
pub fn parse_fuel(text: &str) -> Result<u64, String> {
    text.trim()
        .replace('_', "")
        .parse::<u64>()
        .ok()
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("fuel `{text}` must be a positive integer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_the_units_users_write() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        // Go's form, as kubectl and Helm users write it.
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2m30s"), Ok(Duration::from_secs(150)));
        assert_eq!(parse_duration("1m500ms"), Ok(Duration::from_millis(60_500)));
        assert_eq!(parse_duration("1h0m0.5s"), Ok(Duration::from_millis(3_600_500)));
        assert!(parse_duration("1h30").is_err(), "a bare number only alone");
        assert!(parse_duration("").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("10 parsecs").unwrap_err().contains("parsecs"));
        assert!(parse_duration("99999999999999999999s").unwrap_err().contains("longest a step may run"));
        assert!(parse_duration("5000000000000000h").unwrap_err().contains("longest a step may run"));
        assert!(parse_duration("1e400").is_err());
        assert_eq!(parse_duration("168h"), Ok(MAX_TIMEOUT));
        assert!(parse_output("2GiB").unwrap_err().contains("1 GiB"));
    }

    #[test]
    fn sizes_in_binary_and_decimal_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1gib"), Ok(1 << 30));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999GiB").is_err());
    }

    #[test]
    fn fuel_takes_separators_and_refuses_zero() {
        assert_eq!(parse_fuel("2_000_000_000"), Ok(2_000_000_000));
        assert!(parse_fuel("0").is_err());
        assert!(parse_fuel("-5").is_err());
    }
}
