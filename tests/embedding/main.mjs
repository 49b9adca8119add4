// Calls the guest's typed `run` export the way any component-model host
// would, and prints what came back as one JSON line per call.
const [, , transpiled] = process.argv;
const { run } = await import(`${transpiled}/runbox-js.js`);

const steps = {
  ok: "console.log('hello', get('who')); return { sum: get('numbers').reduce((a, b) => a + b, 0) }",
  undefinedResult: 'const unused = 1;',
  runtimeError: 'const config = null;\nconfig.field;',
  syntaxError: 'let = = 1;',
  fetchRefused: "try { await fetch('http://example.com/') } catch (e) { return [e.code, e.message.includes('example.com')] }",
  runbookRefused: "try { runbook.call('Child.md') } catch (e) { return [e.code, e.message] }",
};
for (const [name, source] of Object.entries(steps)) {
  let outcome;
  try {
    outcome = { ok: run({ source, filename: `${name}.js`, cwd: '/', firstLine: 1 }) ?? null };
  } catch (e) {
    outcome = { err: e.payload ?? String(e) };
  }
  console.log(JSON.stringify({ name, ...outcome }));
}
