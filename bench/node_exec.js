// The plain Node approach to a bash step, for comparison with runbox:
// child_process.exec with shell 'bash'. Prints p50/p99 in microseconds as JSON.
const { exec } = require('child_process');

const runs = Number(process.argv[2] || 1000);
const run = () => new Promise((resolve, reject) => {
  exec('echo hi', { shell: 'bash', timeout: 30000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
});
(async () => {
  for (let i = 0; i < 20; i++) await run();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await run();
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  const pick = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  console.log(JSON.stringify({ p50_us: pick(0.5), p99_us: pick(0.99) }));
})();
