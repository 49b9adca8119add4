// The plain Node approach to a JavaScript step, for comparison with runbox: a
// fresh vm context with console/get/fs/path, the code wrapped in an async
// function, run with a timeout. Prints p50/p99 in microseconds as JSON.
const vm = require('vm');
const fs = require('fs');
const path = require('path');

const runs = Number(process.argv[2] || 2000);
const code = 'return 1';
const times = [];
async function step() {
  const sandbox = { console, get: (name) => undefined, fs, path };
  const context = vm.createContext(sandbox);
  const script = new vm.Script(`(async () => { ${code} })()`);
  return await script.runInContext(context, { timeout: 30000 });
}
(async () => {
  for (let i = 0; i < 50; i++) await step();
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await step();
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  const pick = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  console.log(JSON.stringify({ p50_us: pick(0.5), p99_us: pick(0.99), max_rss_kib: process.resourceUsage().maxRSS }));
})();
