// The host side of `runbox:sandbox/http` for this test: this embedder
// grants no network, so every request is refused with the host it named.
export function send(request) {
  throw { tag: 'denied', val: new URL(request.url).host };
}
