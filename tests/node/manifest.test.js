'use strict';
// appsscript.json asks for exactly the OAuth scopes the code needs, derived here from the services it uses.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const vm = require('node:vm');

const { SCRIPT_DIR, scriptFiles } = require('../node_support/appsScript');
const { buildFiles, sourceFiles } = require('../../scripts/build_addon');

const SCOPE = 'https://www.googleapis.com/auth/';
// Services a script may touch without any scope of its own.
const SCOPE_FREE = new Set(['CacheService', 'PropertiesService', 'Utilities', 'Logger', 'HtmlService', 'Session', 'LockService']);
// Every built-in service name, so that a service we have no rule for fails loudly instead of being missed.
const KNOWN_SERVICES = [
  'SpreadsheetApp', 'UrlFetchApp', 'HtmlService', 'CacheService', 'PropertiesService', 'Utilities', 'Logger',
  'Session', 'LockService', 'ScriptApp', 'DriveApp', 'DocumentApp', 'SlidesApp', 'FormApp', 'GmailApp', 'MailApp',
  'CalendarApp', 'ContactsApp', 'Jdbc', 'XmlService', 'CardService', 'Charts', 'LanguageApp', 'Maps', 'ContentService',
];

/** JavaScript without its comments; strings and regular expression literals are kept whole. */
function stripComments(source) {
  let out = '';
  let last = '';
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    const next = source[i + 1];
    if (ch === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (ch === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 2;
      out += ' ';
    } else if (ch === '"' || ch === "'" || ch === '`' || (ch === '/' && /^$|[(,=:[!&|?{};]/.test(last))) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && (source[j] !== ch || inClass)) {
        if (source[j] === '\\') j++;
        else if (ch === '/' && source[j] === '[') inClass = true;
        else if (ch === '/' && source[j] === ']') inClass = false;
        j++;
      }
      out += source.slice(i, j + 1);
      i = j + 1;
      last = 'x';
    } else {
      out += ch;
      if (!/\s/.test(ch)) last = ch;
      i++;
    }
  }
  return out;
}

/** The .gs sources without comments, so a service named in a comment does not count. */
function code() {
  return scriptFiles()
    .map((name) => stripComments(fs.readFileSync(path.join(SCRIPT_DIR, name), 'utf8')))
    .join('\n');
}

function scopesNeeded(source) {
  const used = KNOWN_SERVICES.filter((service) => new RegExp(`\\b${service}\\b`).test(source));
  const scopes = new Set();
  for (const service of used) {
    if (service === 'SpreadsheetApp') {
      scopes.add(/SpreadsheetApp\s*\.\s*open(ById|ByUrl)?\s*\(/.test(source) ? 'spreadsheets' : 'spreadsheets.currentonly');
      if (/\.getUi\s*\(/.test(source)) scopes.add('script.container.ui');
    } else if (service === 'UrlFetchApp') {
      scopes.add('script.external_request');
    } else if (service === 'HtmlService') {
      // Building HTML needs no scope; showing it in a dialog or sidebar does.
      if (/\.show(ModalDialog|ModelessDialog|Sidebar)\s*\(/.test(source)) scopes.add('script.container.ui');
    } else if (!SCOPE_FREE.has(service)) {
      assert.fail(`${service} is used: add its scope rule to this test`);
    }
  }
  return { used, scopes: [...scopes].map((scope) => SCOPE + scope).sort() };
}

const manifest = JSON.parse(fs.readFileSync(path.join(SCRIPT_DIR, 'appsscript.json'), 'utf8'));

test('oauthScopes are exactly the ones the services in use need', () => {
  const { used, scopes } = scopesNeeded(code());
  assert.deepEqual(used.sort(), ['CacheService', 'HtmlService', 'PropertiesService', 'SpreadsheetApp', 'UrlFetchApp', 'Utilities']);
  assert.deepEqual([...manifest.oauthScopes].sort(), scopes);
  assert.deepEqual(scopes, [
    `${SCOPE}script.container.ui`,
    `${SCOPE}script.external_request`,
    `${SCOPE}spreadsheets.currentonly`,
  ]);
});

test('the scope rules see a wider need', () => {
  assert.deepEqual(scopesNeeded('SpreadsheetApp.openById(id)').scopes, [`${SCOPE}spreadsheets`]);
  assert.deepEqual(scopesNeeded('UrlFetchApp.fetch(u)').scopes, [`${SCOPE}script.external_request`]);
  assert.throws(() => scopesNeeded('DriveApp.getFiles()'), /DriveApp is used/);
  assert.deepEqual(scopesNeeded(stripComments('// SpreadsheetApp.openById(x)\nCacheService; /* UrlFetchApp */')).scopes, []);
  assert.equal(stripComments("var a = 'http://x'; // c\nvar r = /\\/\\//; /* d */"), "var a = 'http://x'; \nvar r = /\\/\\//;  ");
});

test('V8, UTC, Stackdriver logging; the built fetch whitelist holds https:// prefixes ending in "/"', () => {
  assert.equal(manifest.runtimeVersion, 'V8');
  assert.equal(manifest.timeZone, 'Etc/UTC');
  assert.equal(manifest.exceptionLogging, 'STACKDRIVER');
  // The source manifest has no whitelist (no placeholder to forget): npm run build:addon writes it.
  assert.equal(manifest.urlFetchWhitelist, undefined);
  const built = buildFiles({ url: 'https://my-backend.example/base' }).manifest;
  assert.deepEqual(built.urlFetchWhitelist, ['https://my-backend.example/base/']);
  for (const prefix of built.urlFetchWhitelist) {
    assert.match(prefix, /^https:\/\/[^/\s]+\/(\S*\/)?$/, prefix);
  }
});

test('no two apps_script files share a name once the extension is dropped, as Apps Script names them', () => {
  const names = fs.readdirSync(SCRIPT_DIR).filter((name) => /\.(gs|html|js)$/.test(name));
  const stems = names.map((name) => name.replace(/\.[^.]*$/, '').toLowerCase());
  assert.ok(names.length >= 8, names.join(', '));
  assert.deepEqual([...new Set(stems)].sort(), [...stems].sort(), names.join(', '));
  // The build refuses such a pair too.
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'stems-'));
  fs.writeFileSync(path.join(dir, 'Settings.gs'), '');
  fs.writeFileSync(path.join(dir, 'Settings.html'), '');
  assert.throws(() => sourceFiles(dir), /Settings\.gs and Settings\.html have the same name/);
  fs.rmSync(dir, { recursive: true });
});

test('every createHtmlOutputFromFile name is an .html file of the project', () => {
  const names = [...code().matchAll(/createHtmlOutputFromFile\('([^']+)'\)/g)].map((m) => m[1]);
  assert.deepEqual(names.sort(), ['BatchSidebar', 'BatchSidebar', 'ExplainSidebar', 'SettingsDialog']);
  for (const name of names) assert.ok(fs.existsSync(path.join(SCRIPT_DIR, `${name}.html`)), name);
});

test('every menu item and dialog call names a function that exists', () => {
  const source = code();
  const html = ['SettingsDialog.html', 'BatchSidebar.html', 'ExplainSidebar.html'].map((name) => fs.readFileSync(path.join(SCRIPT_DIR, name), 'utf8')).join('\n');
  const full = scriptFiles().map((name) => fs.readFileSync(path.join(SCRIPT_DIR, name), 'utf8')).join('\n');
  const declared = new Set([...source.matchAll(/^function\s+([A-Za-z0-9_]+)/gm)].map((m) => m[1]));
  const menuTargets = [...full.matchAll(/\.addItem\('[^']*',\s*'([A-Za-z0-9_]+)'\)/g)].map((m) => m[1]);
  const serverFunctions = ['getSettings', 'saveSettings', 'testConnection', 'batchProgress', 'writeBatchResults', 'explainSelection'];
  const runTargets = [...html.matchAll(/\.\s*([A-Za-z0-9_]+)\(\s*[^)]*\)\s*;/g)]
    .map((m) => m[1])
    .filter((name) => serverFunctions.includes(name));
  assert.equal(menuTargets.length, 9);
  assert.deepEqual([...new Set(runTargets)].sort(), [...serverFunctions].sort());
  for (const name of [...menuTargets, ...runTargets]) {
    assert.ok(declared.has(name), `${name} is not declared`);
    assert.ok(!name.endsWith('_'), `${name} ends in _, which Apps Script hides from menus and google.script.run`);
  }
});

test('custom functions carry @customfunction JSDoc with a @param per argument and a @return', () => {
  const full = fs.readFileSync(path.join(SCRIPT_DIR, 'Functions.gs'), 'utf8');
  const blocks = [...full.matchAll(/\/\*\*([\s\S]*?)\*\/\s*function\s+([A-Z0-9_]+)\s*\(([^)]*)\)/g)];
  const names = blocks.map((m) => m[2]);
  assert.deepEqual(names, ['SCOPE3_IMPACT', 'SCOPE3_COMPARE', 'SCOPE3_IMPACT_TABLE']);
  for (const [, doc, name, params] of blocks) {
    assert.match(doc, /@customfunction/, name);
    assert.match(doc, /@return \{/, name);
    const documented = [...doc.matchAll(/@param \{[^}]+\} (\w+)/g)].map((m) => m[1]);
    assert.deepEqual(documented, params.split(',').map((p) => p.trim()), name);
    for (const unit of ['Wh', 'g CO2e', 'mL']) assert.ok(doc.includes(unit), `${name} docs lack the unit ${unit}`);
  }
});

test('the .gs files load in any order, as Apps Script does not promise one', () => {
  for (const order of [scriptFiles(), [...scriptFiles()].reverse()]) {
    const context = vm.createContext({});
    for (const name of order) vm.runInContext(fs.readFileSync(path.join(SCRIPT_DIR, name), 'utf8'), context, { filename: name });
    for (const name of ['SCOPE3_IMPACT', 'SCOPE3_COMPARE', 'SCOPE3_IMPACT_TABLE', 'onOpen', 'onInstall', 'showSettings', 'getSettings',
      'saveSettings', 'testConnection', 'refreshModelsTab', 'recalculateFormulas', 'insertExampleSheet', 'freezeResults',
      'estimateSheetAsBatch', 'showBatchProgress', 'batchProgress', 'writeBatchResults', 'showExplain', 'explainSelection', 'insertSummary']) {
      assert.equal(typeof context[name], 'function', `${name} after loading ${order.join(', ')}`);
    }
  }
});
