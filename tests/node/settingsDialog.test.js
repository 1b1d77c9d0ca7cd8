'use strict';
// Settings.html in headless Chromium. google.script.run is stubbed in the page so that each call reaches the
// real Settings.gs functions running in the Node vm: saving writes the stubbed document properties and
// "Test connection" calls the live gunicorn.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { after, afterEach, before, beforeEach, describe, test } = require('node:test');

const { createAppsScript, SCRIPT_DIR } = require('../node_support/appsScript');
const { startServer } = require('../node_support/server');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const DIALOG_URL = 'http://settings-dialog.test/';
// What google.script.run exposes: public functions only (Apps Script hides names ending in "_").
const SERVER_FUNCTIONS = new Set(['getSettings', 'saveSettings', 'testConnection']);

function missingBrowser() {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install chromium)`;
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
  return null;
}

const missing = missingBrowser();
if (missing && process.env.SCOPE3AI_REQUIRE_SERVICES === '1') {
  test('the Settings dialog needs a browser', () => {
    assert.fail(`${missing}; SCOPE3AI_REQUIRE_SERVICES=1 forbids skipping`);
  });
}

// google.script.run and google.script.host as the dialog sees them, forwarding to window.__gasRun.
function installGoogleScriptStub() {
  function runner(success, failure) {
    return new Proxy({}, {
      get(_, name) {
        if (name === 'withSuccessHandler') return (handler) => runner(handler, failure);
        if (name === 'withFailureHandler') return (handler) => runner(success, handler);
        if (name === 'withUserObject') return () => runner(success, failure);
        return (...args) => {
          window.__gasCalls.push(String(name));
          window.__gasRun(String(name), JSON.stringify(args)).then((reply) => {
            const answer = JSON.parse(reply);
            if (answer.ok) {
              if (success) success(answer.value);
            } else if (failure) {
              failure(new Error(answer.message));
            }
          });
        };
      },
    });
  }
  window.__gasCalls = [];
  window.__closed = false;
  window.google = { script: { run: runner(null, null), host: { close() { window.__closed = true; } } } };
}

describe('Settings dialog in headless Chromium', { skip: missing || false }, () => {
  let server;
  let key;
  let browser;
  let page;
  let gas;
  let pageErrors;

  before(async () => {
    const { chromium } = require('playwright-core');
    [server, browser] = await Promise.all([
      startServer(),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
    key = server.createKey('apps-script-dialog');
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  async function openDialog(settings) {
    gas = createAppsScript(settings ? { settings } : {});
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.exposeFunction('__gasRun', (name, argsJson) => {
      if (!SERVER_FUNCTIONS.has(name)) return JSON.stringify({ ok: false, message: `Script function not found: ${name}` });
      try {
        return JSON.stringify({ ok: true, value: gas.run(name, ...JSON.parse(argsJson)) });
      } catch (error) {
        return JSON.stringify({ ok: false, message: `Error: ${error.message}` });
      }
    });
    await page.addInitScript(installGoogleScriptStub);
    const html = fs.readFileSync(path.join(SCRIPT_DIR, 'Settings.html'), 'utf8');
    await page.route('**/*', (route) =>
      route.request().url() === DIALOG_URL
        ? route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html })
        : route.abort(),
    );
    await page.goto(DIALOG_URL);
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
