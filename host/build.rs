//! The sha256 of each embedded guest, computed once when runbox is built:
//! it names the guest's entry in the compiled-guest cache, and hashing the
//! 8.6 MB shell guest on every run cost more than the rest of a short run.
//! Also the commit runbox is built from and its date, for `--version`
//! (`unknown` outside a git checkout, e.g. from a source archive).

use std::path::Path;

use sha2::{Digest, Sha256};

fn main() {
    // At run time, not `env!`: a build script compiled for one checkout can
    // be reused (same source, same target directory) for another.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for build scripts");
    let manifest = Path::new(&manifest);
    for (guest, var) in [("runbox-js.wasm", "RUNBOX_JS_SHA256"), ("runbox-sh.wasm", "RUNBOX_SH_SHA256")] {
        let path = manifest.join("../guests/dist").join(guest);
        println!("cargo:rerun-if-changed={}", path.display());
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (scripts/build-guests builds it)", path.display()));
        let hex: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        println!("cargo:rustc-env={var}={hex}");
    }
    let repo = manifest.join("..");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(&repo)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    // The commit's date, not the build's: two builds of one commit say the same.
    let date = git(&["log", "-1", "--format=%cs"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=RUNBOX_COMMIT={commit}");
    println!("cargo:rustc-env=RUNBOX_COMMIT_DATE={date}");
    // A new commit moves HEAD or the branch it names.
    let head = repo.join(".git/HEAD");
    println!("cargo:rerun-if-changed={}", head.display());
    if let Some(branch) =
        std::fs::read_to_string(&head).ok().and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()))
    {
        println!("cargo:rerun-if-changed={}", repo.join(".git").join(branch).display());
    }
    println!("cargo:rerun-if-changed={}", repo.join(".git/packed-refs").display());
}
