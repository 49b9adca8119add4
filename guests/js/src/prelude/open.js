// The globals of a JavaScript step, built once when the engine starts (and so
// inside the pre-initialised snapshot). `native` holds the few functions the
// Rust side provides; this file returns the hooks Rust calls at each run.
(function (native) {
  'use strict';

  let cwd = '/';

