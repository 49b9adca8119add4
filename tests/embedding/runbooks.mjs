// The host side of `runbox:sandbox/runbooks` for this test: this embedder
// has no runbooks, so every call is refused as one to an unknown runbook.
export function call(name) {
  throw { code: 'ConfigInvalid', message: `no runbook named ${name} here`, exitStatus: 2 };
}
