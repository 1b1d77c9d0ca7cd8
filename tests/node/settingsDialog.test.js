'use strict';
// Settings.html in headless Chromium. google.script.run is stubbed in the page so that each call reaches the
// real Settings.gs functions running in the Node vm: saving writes the stubbed document properties and
// "Test connection" calls the live gunicorn.

const assert = require('node:assert/strict');
const { after, afterEach, before, beforeEach, describe, test } = require('node:test');

const { createAppsScript } = require('../node_support/appsScript');
const { launchBrowser, missingBrowser, openHtml } = require('../node_support/htmlPage');
const { startServer } = require('../node_support/server');

// What google.script.run exposes: public functions only (Apps Script hides names ending in "_").
const SERVER_FUNCTIONS = ['getSettings', 'saveSettings', 'testConnection'];

const missing = missingBrowser();
if (missing && process.env.SCOPE3AI_REQUIRE_SERVICES === '1') {
  test('the Settings dialog needs a browser', () => {
    assert.fail(`${missing}; SCOPE3AI_REQUIRE_SERVICES=1 forbids skipping`);
  });
}

describe('Settings dialog in headless Chromium', { skip: missing || false }, () => {
  let server;
  let key;
  let browser;
  let page;
  let gas;
  let pageErrors;

  before(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    key = server.createKey('apps-script-dialog');
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  async function openDialog(settings) {
    gas = createAppsScript(settings ? { settings } : {});
    page = await openHtml(browser, { gas, file: 'SettingsDialog', functions: SERVER_FUNCTIONS, pageErrors });
    await page.waitForFunction(() => window.__gasCalls.includes('getSettings') && !document.getElementById('save').disabled);
  }

  /** Waits for the status line to settle on an outcome and returns {text, kind}. */
  async function outcome() {
    await page.waitForFunction(() => /^(ok|error)$/.test(document.getElementById('status').className));
    return page.evaluate(() => {
      const line = document.getElementById('status');
      return { text: line.textContent, kind: line.className };
    });
  }

  beforeEach(() => {
    page = null;
    pageErrors = [];
  });

  afterEach(async () => {
    if (page) await page.close();
    assert.deepEqual(pageErrors, [], 'the dialog threw');
  });

  test('a key typed and saved lands in the document properties, never back in the dialog', async () => {
    await openDialog();
    assert.equal(await page.inputValue('#url'), '');
    assert.equal(await page.getAttribute('#key', 'type'), 'password');
    await page.fill('#url', server.url);
    await page.fill('#key', key);
    await page.click('#save');
    await page.waitForFunction(() => window.__closed === true);

    assert.equal(gas.stores.document.getProperty('SCOPE3_API_KEY'), key);
    assert.equal(gas.stores.document.getProperty('SCOPE3_API_URL'), server.url);
    assert.deepEqual(gas.stores.user.getKeys(), []);
    const settings = gas.run('getSettings');
    assert.deepEqual(settings, { url: server.url, keySet: true, keyHint: key.slice(-4) });
    assert.equal(await page.inputValue('#key'), '');
    assert.equal(await page.getAttribute('#key', 'placeholder'), `saved key …${key.slice(-4)}`);
    assert.ok(!(await page.content()).includes(key));
  });

  test('reopened, it shows the saved URL and a hint of the saved key', async () => {
    await openDialog({ url: server.url, key });
    assert.equal(await page.inputValue('#url'), server.url);
    assert.equal(await page.inputValue('#key'), '');
    assert.equal(await page.getAttribute('#key', 'placeholder'), `saved key …${key.slice(-4)}`);
  });

  for (const bad of ['ftp://x', 'not a url']) {
    test(`the URL ${JSON.stringify(bad)} shows an error and saves nothing`, async () => {
      await openDialog();
      await page.fill('#url', bad);
      await page.fill('#key', key);
      await page.click('#save');
      const { text, kind } = await outcome();
      assert.equal(kind, 'error');
      assert.match(text, /The API URL must look like https:\/\//);
      assert.equal(await page.evaluate(() => window.__closed), false);
      assert.deepEqual(gas.stores.document.getKeys(), []);
      assert.ok(!(await page.evaluate(() => window.__gasCalls)).includes('saveSettings'));
    });
  }

  test('a refusal from Settings.gs is shown in the dialog and saves nothing', async () => {
    await openDialog();
    await page.fill('#url', server.url);
    await page.fill('#key', 's3ai_has a space');
    await page.click('#save');
    const { text, kind } = await outcome();
    assert.deepEqual({ text, kind }, { text: 'The API key must not contain spaces or line breaks.', kind: 'error' });
    assert.ok((await page.evaluate(() => window.__gasCalls)).includes('saveSettings'));
    assert.deepEqual(gas.stores.document.getKeys(), []);
  });

  test('Test connection with the good key reports success; with a bad key, the key is rejected', async () => {
    await openDialog();
    await page.fill('#url', server.url);
    await page.fill('#key', key);
    await page.click('#test');
    const good = await outcome();
    assert.equal(good.kind, 'ok');
    assert.match(good.text, /^Connected: \d{3,} models$/);

    await page.fill('#key', 's3ai_not-the-key-0000000000000000');
    await page.click('#test');
    await page.waitForFunction(() => document.getElementById('status').textContent !== '' &&
      !document.getElementById('status').textContent.startsWith('Connected'));
    const bad = await outcome();
    assert.deepEqual(bad, { text: 'API key rejected (HTTP 401): check the key.', kind: 'error' });
    assert.deepEqual(gas.stores.document.getKeys(), [], 'testing saves nothing');
    const fetched = gas.takeRequests();
    assert.deepEqual(fetched.map((r) => r.url), [`${server.url}/model?limit=1`, `${server.url}/model?limit=1`]);
  });
});
