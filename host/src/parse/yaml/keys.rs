//! The shape a YAML runbook may take: the keys of its top, of a step and
//! of a step's `with:` (the JSON Schema is held to these), and how deep it
//! may nest.

/// How deeply a runbook's YAML may nest; real ones stay under ten. The
/// parser refuses flow collections nested past 256 itself, but not block
/// ones (`- - - - x`), whose tree would then overflow the stack when freed.
pub(crate) const MAX_DEPTH: usize = 200;

pub(crate) const TOP_KEYS: &[&str] = &[
    "id",
    "name",
    "description",
    "inputs",
    "permissions",
    "required_claims",
    "steps",
    "version",
    "tags",
    "deterministic",
];
pub(crate) const STEP_KEYS: &[&str] =
    &["name", "type", "with", "on_error", "approval_required", "approvers", "description", "native"];
pub(crate) const WITH_KEYS: &[&str] = &[
    "inline_script",
    "script_file",
    "script_path",
    "script_id",
    "script_from_secret",
    "script_from_configmap",
    "args",
    "env",
    "cwd",
    "timeout",
    "fuel",
    "memory",
    "output",
    "approval_required",
    "approvers",
    "runbook",
    "inputs",
    "image_ref",
    "secret_env_all",
];
