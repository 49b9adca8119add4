// The host side of `runbox:sandbox/context`, written for this test only.
const variables = { who: 'jco', numbers: [1, 2, 3] };

export function get(name) {
  return name in variables ? JSON.stringify(variables[name]) : undefined;
}

export function correlationId() {
  return 'embedding-test';
}

export function recursionStack() {
  return ['Embedding'];
}
