// Evaluates each case (an expression using `path` and `util`) and encodes
// what it gave: `s:` and a string, `j:` and JSON of another value, or
// `throws` with the error's name, code and message. The same text runs in
// Node (scripts/node-expectations) and in runbox (tests/all/node_exact.rs).
(cases) => cases.map((expression) => {
  try {
    const value = (0, eval)(expression);
    if (typeof value === 'string') return `s:${value}`;
    return value === undefined ? 'undefined' : `j:${JSON.stringify(value)}`;
  } catch (e) {
    return `throws ${e.name} ${e.code}: ${e.message}`;
  }
})
