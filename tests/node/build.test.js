'use strict';
// npm run build:addon: dist/ holds what clasp pushes, with the backend as the manifest's only allowed URL.

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');

const { ROOT, SCRIPT_DIR } = require('../node_support/appsScript');

function build(...args) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'scope3-addon-'));
  const result = childProcess.spawnSync('npm', ['run', '--silent', 'build:addon', '--', ...args, '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { out, ...result };
}

test('npm run build:addon -- URL --script-id ID writes the project, the manifest allowing that URL, and .clasp.json', () => {
  const scriptId = '1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcdEFGH';
  const { out, status, stderr, stdout } = build('https://my-backend.example/', '--script-id', scriptId);
  try {
    assert.equal(status, 0, stderr);
    assert.match(stdout, /urlFetchWhitelist https:\/\/my-backend\.example\//);
    const written = fs.readdirSync(out).sort();
    const sources = fs.readdirSync(SCRIPT_DIR).filter((name) => /\.(gs|html)$/.test(name));
    assert.deepEqual(written, [...sources, '.clasp.json', 'appsscript.json'].sort());
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'appsscript.json'), 'utf8'));
    assert.deepEqual(manifest.urlFetchWhitelist, ['https://my-backend.example/']);
    const everything = written.map((name) => fs.readFileSync(path.join(out, name), 'utf8')).join('\n');
    assert.doesNotMatch(everything, /YOUR-|your-project/);
    assert.match(fs.readFileSync(path.join(out, 'BuildConfig.gs'), 'utf8'),
      /const SCOPE3_URL_ALLOWLIST_ = \["https:\/\/my-backend\.example\/"\];/);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, '.clasp.json'), 'utf8')), { scriptId, rootDir: '.' });
    for (const name of sources.filter((n) => n !== 'BuildConfig.gs')) {
      assert.equal(fs.readFileSync(path.join(out, name), 'utf8'), fs.readFileSync(path.join(SCRIPT_DIR, name), 'utf8'), name);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('without --script-id there is no .clasp.json; a path is kept as the prefix, ending in "/"', () => {
  const { out, status, stderr } = build('https://my-backend.example/base');
  try {
    assert.equal(status, 0, stderr);
    assert.ok(!fs.existsSync(path.join(out, '.clasp.json')));
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'appsscript.json'), 'utf8'));
    assert.deepEqual(manifest.urlFetchWhitelist, ['https://my-backend.example/base/']);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

for (const [bad, reason] of [
  ['http://my-backend.example/', /only https:\/\//],
  ['https://localhost:8080/', /can never reach localhost/],
  ['https://127.0.0.1/', /can never reach 127\.0\.0\.1/],
  ['https://10.1.2.3/', /can never reach/],
  ['https://my-backend.example/?key=1', /no credentials, query or fragment/],
  ['not a url', /not a URL/],
]) {
  test(`build:addon refuses ${bad}`, () => {
    const { out, status, stderr } = build(bad);
    fs.rmSync(out, { recursive: true, force: true });
    assert.equal(status, 2);
    assert.match(stderr, reason);
  });
}

test('build:addon without a URL prints its usage', () => {
  const { out, status, stderr } = build();
  fs.rmSync(out, { recursive: true, force: true });
  assert.equal(status, 2);
  assert.match(stderr, /usage: npm run build:addon -- https:\/\//);
});
