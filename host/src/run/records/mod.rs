//! What a run leaves behind, and how it is read back: its report (`--json`,
//! the API's answer), the History entry appended to a markdown runbook, the
//! JSON-lines record, the past executions read from it, JUnit, and the
//! masking of secrets that every one of them (and the live output) passes
//! through first.

pub mod history;
pub mod junit;
pub mod mask;
pub mod past;
pub mod record;
pub mod report;
