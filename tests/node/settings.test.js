'use strict';
// Settings: document properties, URL/key validation, readable errors, and the key staying out of URLs,
// cells and the cache.

const assert = require('node:assert/strict');
const { after, before, describe, test } = require('node:test');

const { createAppsScript } = require('../node_support/appsScript');
const { startServer } = require('../node_support/server');

let server;
let key;

before(async () => {
  server = await startServer();
  key = server.createKey('apps-script-settings');
});

after(async () => {
  if (server) await server.stop();
});

describe('readable errors', () => {
  test('no settings: the custom functions say where to set them and call nothing', () => {
    const gas = createAppsScript();
    for (const call of [
      () => gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 100, 10),
      () => gas.customFunction('SCOPE3_IMPACT_TABLE', [['model'], ['gpt-4o']]),
    ]) {
      assert.throws(call, { message: 'Scope3: no API URL set — Extensions → Scope3 → Settings…' });
    }
    gas.run('saveSettings', { url: server.url, key: '' });
    assert.throws(() => gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 100, 10), { message: 'Scope3: no API key set — Extensions → Scope3 → Settings…' });
    assert.equal(gas.takeRequests().length, 0);
  });

  test('a bad key: the error mentions the key and HTTP 401', () => {
    const gas = createAppsScript({ settings: { url: server.url, key: 's3ai_not-a-real-key-000000000000' } });
    assert.throws(
      () => gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 100, 10),
      { message: 'Scope3: API key rejected (HTTP 401) — set it in Extensions → Scope3 → Settings…' },
    );
    assert.throws(() => gas.run('refreshModelsTab'), { message: /^Scope3: API key rejected \(HTTP 401\)/ });
  });

  test('an unreachable server: the error names the URL', () => {
    const gas = createAppsScript({ settings: { url: 'http://127.0.0.1:9', key }, allow: ['http://127.0.0.1:9'] });
    assert.throws(() => gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 100, 10), { message: /^Scope3: cannot reach http:\/\/127\.0\.0\.1:9 / });
  });
});

test('the key travels only in the Authorization header: never in a URL, a cell, a formula or the cache', () => {
  const gas = createAppsScript();
  gas.run('saveSettings', { url: `${server.url}/`, key: `  ${key}  ` });
  assert.equal(gas.stores.document.getProperty('SCOPE3_API_KEY'), key);
  assert.equal(gas.stores.document.getProperty('SCOPE3_API_URL'), server.url, 'trailing slash dropped');

  gas.customFunction('SCOPE3_IMPACT', [['gpt-4o'], ['gpt-4o-mini'], ['nope']], 100, 10);
  gas.customFunction('SCOPE3_IMPACT_TABLE', [['model', 'input_tokens'], ['gpt-4o', 5]], 'all');
  gas.run('refreshModelsTab');
  gas.run('insertExampleSheet');
  assert.equal(gas.run('testConnection', { url: '', key: '' }).ok, true);
  const requests = gas.takeRequests();
  assert.ok(requests.length >= 4);
  for (const request of requests) {
    assert.ok(!request.url.includes(key), request.url);
    assert.ok(request.url.startsWith(`${server.url}/`), request.url);
    assert.equal(request.headers.Authorization, `Bearer ${key}`);
    assert.ok(!(request.body || '').includes(key));
  }
  for (const sheet of gas.spreadsheet.getSheets()) {
    assert.ok(!JSON.stringify(sheet.dump()).includes(key), `sheet ${sheet.getName()}`);
  }
  const cached = JSON.stringify([...gas.caches.document.entries]);
  assert.ok(cached.length > 100);
  assert.ok(!cached.includes(key));
  assert.ok(!JSON.stringify(gas.logs).includes(key));
  assert.deepEqual(gas.stores.user.getKeys(), [], 'settings belong to the document, not the user');
});

describe('getSettings / saveSettings', () => {
  test('getSettings never returns the key, only whether one is saved and its last 4 characters', () => {
    const gas = createAppsScript({ backend: 'https://scope3.example.com/api/' });
    assert.deepEqual(gas.run('getSettings'), { url: '', keySet: false, keyHint: '' });
    gas.run('saveSettings', { url: 'https://scope3.example.com/api', key });
    const settings = gas.run('getSettings');
    assert.deepEqual(settings, { url: 'https://scope3.example.com/api', keySet: true, keyHint: key.slice(-4) });
    assert.ok(!JSON.stringify(settings).includes(key));
  });

  test('a blank key keeps the saved one for the same URL', () => {
    const gas = createAppsScript({ backend: 'https://a.example.com/' });
    gas.run('saveSettings', { url: 'https://a.example.com', key });
    assert.deepEqual(gas.run('saveSettings', { url: 'https://a.example.com/', key: '   ' }).keySet, true);
    assert.equal(gas.stores.document.getProperty('SCOPE3_API_KEY'), key);
  });

  test('a new URL with a blank key clears the saved key: it is never sent to another server', () => {
    const gas = createAppsScript({ backend: 'https://a.example.com/', allow: ['https://b.example.com/'] });
    gas.run('saveSettings', { url: 'https://a.example.com', key });
    assert.deepEqual(gas.run('saveSettings', { url: 'https://b.example.com', key: '   ' }),
      { url: 'https://b.example.com', keySet: false, keyHint: '' });
    assert.equal(gas.stores.document.getProperty('SCOPE3_API_KEY'), null);
    assert.equal(gas.stores.document.getProperty('SCOPE3_API_URL'), 'https://b.example.com');
    assert.throws(() => gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 100, 10), { message: /no API key set/ });
    assert.equal(gas.takeRequests().length, 0);
  });

  for (const bad of ['ftp://x', 'not a url', '', 'http://scope3.example.com', 'https://', 'https://a.example.com/?key=1',
    'https://user:pw@a.example.com', 'javascript:alert(1)', 'https://a.example.com/ x']) {
    test(`rejects the URL ${JSON.stringify(bad)} and saves nothing`, () => {
      const gas = createAppsScript();
      assert.throws(() => gas.run('saveSettings', { url: bad, key }), { message: /^The API URL must look like https:\/\// });
      assert.deepEqual(gas.stores.document.getKeys(), []);
    });
  }

  for (const good of ['https://my-project.appspot.com', 'https://scope3.example.com:8443/base/']) {
    test(`accepts the URL ${good} when the add-on was built for it`, () => {
      const gas = createAppsScript({ backend: good });
      assert.equal(gas.run('saveSettings', { url: good, key }).url, good.replace(/\/$/, ''));
    });
  }

  test('accepts a URL under the allowlisted prefix', () => {
    const gas = createAppsScript({ backend: 'https://scope3.example.com/base/' });
    assert.equal(gas.run('saveSettings', { url: 'https://scope3.example.com/base/v2', key }).url, 'https://scope3.example.com/base/v2');
  });

  for (const refused of ['https://other.example.com', 'https://scope3.example.com/other', 'https://scope3.example.com.evil.example/base',
    'http://localhost:8080', 'http://127.0.0.1:5000/']) {
    test(`refuses ${refused}, outside the manifest's urlFetchWhitelist, naming the allowlist`, () => {
      const gas = createAppsScript({ backend: 'https://scope3.example.com/base/' });
      assert.throws(() => gas.run('saveSettings', { url: refused, key }),
        { message: /urlFetchWhitelist \(https:\/\/scope3\.example\.com\/base\/.*npm run build:addon/ });
      assert.deepEqual(gas.stores.document.getKeys(), []);
      assert.match(gas.run('testConnection', { url: refused, key }).message, /urlFetchWhitelist/);
      assert.equal(gas.takeRequests().length, 0);
    });
  }

  test('http://localhost is refused with the reason: UrlFetch runs on Google\'s servers', () => {
    const gas = createAppsScript();
    assert.throws(() => gas.run('saveSettings', { url: 'http://localhost:8080', key }), { message: /never reaches localhost/ });
  });

  test('rejects a key with spaces inside', () => {
    const gas = createAppsScript({ backend: 'https://a.example.com/' });
    assert.throws(() => gas.run('saveSettings', { url: 'https://a.example.com', key: 's3ai_a b' }), { message: /must not contain spaces/ });
    assert.deepEqual(gas.stores.document.getKeys(), []);
  });
});

describe('testConnection', () => {
  test('the good key: connected, with the number of models', () => {
    const gas = createAppsScript();
    const result = gas.run('testConnection', { url: server.url, key });
    assert.equal(result.ok, true, result.message);
    assert.match(result.message, /^Connected: \d{3,} models$/);
    const [request] = gas.takeRequests();
    assert.equal(request.url, `${server.url}/model?limit=1`);
    assert.deepEqual(gas.stores.document.getKeys(), [], 'testing saves nothing');
  });

  test('a bad key: rejected', () => {
    const gas = createAppsScript();
    const result = gas.run('testConnection', { url: server.url, key: 's3ai_wrong-key-1234567890abcdef' });
    assert.deepEqual(result, { ok: false, message: 'API key rejected (HTTP 401): check the key.' });
  });

  test('blank fields fall back to the saved settings', () => {
    const gas = createAppsScript({ settings: { url: server.url, key } });
    assert.equal(gas.run('testConnection', { url: '', key: '' }).ok, true);
    assert.equal(gas.run('testConnection', { url: `${server.url}/`, key: '' }).ok, true);
  });

  test('a newly typed URL is tested with the typed key only: no request to it carries the saved key', async () => {
    const other = await startServer();
    try {
      const otherKey = other.createKey('apps-script-other');
      const gas = createAppsScript({ settings: { url: server.url, key } });
      const blank = gas.run('testConnection', { url: other.url, key: '' });
      assert.deepEqual(blank, { ok: false, message: `Enter the API key for ${other.url} (the saved key is only sent to ${server.url}).` });
      assert.equal(gas.run('testConnection', { url: other.url, key: otherKey }).ok, true);
      const requests = gas.takeRequests();
      assert.equal(requests.length, 1);
      for (const request of requests) {
        assert.ok(request.url.startsWith(other.url));
        assert.ok(!JSON.stringify(request).includes(key), 'the saved key went to the new URL');
      }
    } finally {
      await other.stop();
    }
  });

  test('unreachable and malformed URLs give readable messages', () => {
    const gas = createAppsScript({ allow: ['http://127.0.0.1:9'] });
    assert.match(gas.run('testConnection', { url: 'http://127.0.0.1:9', key }).message, /^Cannot reach http:\/\/127\.0\.0\.1:9/);
    assert.match(gas.run('testConnection', { url: 'ftp://x', key }).message, /^The API URL must look like/);
    assert.deepEqual(gas.run('testConnection', { url: server.url, key: '' }), { ok: false, message: 'Enter an API key first.' });
  });
});

test('showSettings opens SettingsDialog.html as a modal dialog', () => {
  const gas = createAppsScript();
  gas.run('showSettings');
  assert.equal(gas.ui.dialogs.length, 1);
  const [dialog] = gas.ui.dialogs;
  assert.equal(dialog.title, 'Scope3 settings');
  assert.match(dialog.html.getContent(), /google\.script\.run/);
  assert.ok(dialog.html.getWidth() > 0 && dialog.html.getHeight() > 0);
});
