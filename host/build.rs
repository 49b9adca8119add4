//! The sha256 of each embedded guest, computed once when runbox is built:
//! it names the guest's entry in the compiled-guest cache, and hashing the
//! 8.6 MB shell guest on every run cost more than the rest of a short run.

use std::path::Path;

use sha2::{Digest, Sha256};

fn main() {
    for (guest, var) in [("runbox-js.wasm", "RUNBOX_JS_SHA256"), ("runbox-sh.wasm", "RUNBOX_SH_SHA256")] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guests/dist").join(guest);
        println!("cargo:rerun-if-changed={}", path.display());
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (scripts/build-guests builds it)", path.display()));
        let hex: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        println!("cargo:rustc-env={var}={hex}");
    }
}
