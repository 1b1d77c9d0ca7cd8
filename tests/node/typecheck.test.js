'use strict';
// tsc --checkJs over apps_script/*.gs against @types/google-apps-script: no errors, and it does catch one.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');

const { SCRIPT_DIR } = require('../node_support/appsScript');
const { typecheck } = require('../../scripts/typecheck_apps_script');

test('apps_script/*.gs type-check against @types/google-apps-script with 0 errors', () => {
  const result = typecheck();
  assert.equal(result.errors, 0, result.output);
  assert.equal(result.status, 0, result.output);
  assert.ok(result.files >= 6);
});

test('the check fails on a wrong Apps Script call, naming the .gs file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scope3-bad-gs-'));
  try {
    for (const name of fs.readdirSync(SCRIPT_DIR).filter((n) => n.endsWith('.gs'))) {
      fs.copyFileSync(path.join(SCRIPT_DIR, name), path.join(dir, name));
    }
    // setValues takes a 2-D array; getRange wants numbers or an A1 string.
    fs.writeFileSync(path.join(dir, 'Bad.gs'), 'function bad_() {\n  SpreadsheetApp.getActiveSheet().getRange(true).setValues("x");\n}\n');
    const result = typecheck(dir);
    assert.notEqual(result.status, 0);
    assert.ok(result.errors >= 1, result.output);
    assert.match(result.output, /apps_script\/Bad\.gs\(2,/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
