'use strict';
// A backend briefly unavailable (503 with Retry-After, as the server answers while its database restarts), or a
// connection dropped mid-request (the instance answering it killed): the functions wait, try once more, and
// otherwise say so in words.

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const { after, before, test } = require('node:test');

const { allowTestUrl, createAppsScript } = require('../node_support/appsScript');

// The backend runs in a child process: a custom function blocks this thread while it waits for answers.
const BACKEND = `
const http = require('node:http');
let script = [];
let seen = [];
const server = http.createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => { body += chunk; });
  request.on('end', () => {
    if (request.url === '/control') {
      script = JSON.parse(body);
      seen = [];
      response.end('{}');
      return;
    }
    if (request.url === '/seen') {
      response.end(JSON.stringify(seen));
      return;
    }
    seen.push(Date.now());
    const next = script.shift() || 'ok';
    if (next === 'drop') {
      request.socket.destroy();
      return;
    }
    if (next === 'busy') {
      response.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' });
      response.end(JSON.stringify({ code: 'SERVICE_UNAVAILABLE', message: 'the database is briefly unavailable; retry in 1 s' }));
      return;
    }
    const lines = Array.isArray(JSON.parse(body).args.model) ? JSON.parse(body).args.model.length : 1;
    response.writeHead(200, { 'Content-Type': 'application/json', 'Scope3-Catalog-Version': 'test.1' });
    response.end(JSON.stringify({ columns: ['energy_wh'], values: Array.from({ length: lines }, () => [1.5]) }));
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

let backend;
let url;

before(async () => {
  backend = childProcess.spawn(process.execPath, ['-e', BACKEND], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => backend.stdout.once('data', (data) => resolve(String(data).trim())));
  url = `http://127.0.0.1:${port}`;
  allowTestUrl(url);
});

after(() => backend.kill());

async function answerWith(script) {
  await fetch(`${url}/control`, { method: 'POST', body: JSON.stringify(script) });
}

async function requestTimes() {
  return (await fetch(`${url}/seen`)).json();
}

const gas = () => createAppsScript({ settings: { url, key: 's3ai_unavailable-test-key-000000' } });

test('a 503 is tried once more after its Retry-After, and the numbers come', async () => {
  await answerWith(['busy', 'ok']);
  const project = gas();
  const values = project.customFunction('SCOPE3_IMPACT', [['gpt-4o'], ['gpt-4o-mini']], 10, 5, '', '', '', 'energy_wh');
  assert.deepEqual(values, [[1.5], [1.5]]);
  const seen = await requestTimes();
  assert.equal(seen.length, 2);
  const waited = seen[1] - seen[0];
  assert.ok(waited >= 950, `retried after ${waited} ms, not the 1 s asked`);
  assert.ok(project.timings[0].wallMs >= 950, 'the wait counts against the call');
});

test('a second 503 gives a readable error, not a stack trace', async () => {
  await answerWith(['busy', 'busy']);
  assert.throws(
    () => gas().customFunction('SCOPE3_IMPACT', 'gpt-4o', 10, 5),
    { message: 'Scope3: backend briefly unavailable (HTTP 503) — recalculate in a moment (the database is briefly unavailable; retry in 1 s)' },
  );
  assert.equal((await requestTimes()).length, 2, 'one retry, no more');
});

test('a dropped connection is tried once more, and the numbers come', async () => {
  await answerWith(['drop', 'ok']);
  const values = gas().customFunction('SCOPE3_IMPACT', [['gpt-4o'], ['gpt-4o-mini']], 10, 5, '', '', '', 'energy_wh');
  assert.deepEqual(values, [[1.5], [1.5]]);
  const seen = await requestTimes();
  assert.equal(seen.length, 2);
  assert.ok(seen[1] - seen[0] >= 450, `retried after ${seen[1] - seen[0]} ms, not the 0.5 s wait`);
});

test('a connection dropped twice says the backend cannot be reached', async () => {
  await answerWith(['drop', 'drop']);
  assert.throws(() => gas().customFunction('SCOPE3_IMPACT', 'gpt-4o', 10, 5), { message: /^Scope3: cannot reach http:\/\/127\.0\.0\.1:\d+ / });
  assert.equal((await requestTimes()).length, 2, 'one retry, no more');
});
