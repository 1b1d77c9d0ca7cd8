'use strict';
// An apps_script/*.html dialog or sidebar in headless Chromium. google.script.run is stubbed in the page so that
// each call reaches the real .gs function in the Node vm (which talks to the live gunicorn); google.script.host
// records close().

const fs = require('node:fs');
const path = require('node:path');


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
const PAGE_URL = 'http://apps-script-html.test/';

/** Why the browser tests cannot run here, or null. */
function missingBrowser() {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install chromium)`;
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
  return null;
}

function launchBrowser() {
  const { chromium } = require('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

// google.script.run and google.script.host as the page sees them, forwarding to window.__gasRun.
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

/**
 * Opens apps_script/<file>.html in a new page whose google.script.run reaches `functions` (the public names the
 * page may call) in `gas`. Uncaught page errors are pushed to `pageErrors`.
 */
async function openHtml(browser, { gas, file, functions, pageErrors }) {
  const page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.exposeFunction('__gasRun', (name, argsJson) => {
    if (!functions.includes(name)) return JSON.stringify({ ok: false, message: `Script function not found: ${name}` });
    try {
      return JSON.stringify({ ok: true, value: gas.run(name, ...JSON.parse(argsJson)) });
    } catch (error) {
      return JSON.stringify({ ok: false, message: `Error: ${error.message}` });
    }
  });
  await page.addInitScript(installGoogleScriptStub);
  const html = gas.files[`${file}.html`];
  if (html === undefined) throw new Error(`no ${file}.html in the built project`);
  await page.route('**/*', (route) =>
    route.request().url() === PAGE_URL
      ? route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html })
      : route.abort(),
  );
  await page.goto(PAGE_URL);
  return page;
}

module.exports = { missingBrowser, launchBrowser, openHtml };
