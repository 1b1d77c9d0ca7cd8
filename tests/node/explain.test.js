'use strict';
// "Explain this estimate" against a live gunicorn: explainSelection finds the SCOPE3_ formula that filled the
// selected cell, reads that line's arguments and asks the server once; the sidebar, in headless Chromium, shows
// the parts of the cell's figure, which add up to the cell's value.

const assert = require('node:assert/strict');
const { after, before, describe, test } = require('node:test');

const { createAppsScript } = require('../node_support/appsScript');
const { recalculate } = require('../node_support/formulas');
const { launchBrowser, missingBrowser, openHtml } = require('../node_support/htmlPage');
const { startServer } = require('../node_support/server');

const USAGE = [
  ['model', 'input_tokens', 'output_tokens', 'location'],
  ['gpt-4o', 1200, 350, 'FR'],
  ['llama_31_8b', 1000, 300, 'US-NY'],
  ['claude-3-5-sonnet', 2000, 500, ''],
];

let server;
let key;

before(async () => {
  server = await startServer();
  key = server.createKey('apps-script-explain');
});

after(async () => {
  if (server) await server.stop();
});

/** A sheet with the usage table and three SCOPE3_ formulas, calculated as Sheets would. */
function sheetWithResults() {
  const gas = createAppsScript({ settings: { url: server.url, key } });
  const sheet = gas.spreadsheet.insertSheet('Usage');
  sheet.getRange(1, 1, USAGE.length, USAGE[0].length).setValues(USAGE);
  sheet.getRange(2, 6).setFormula('=SCOPE3_IMPACT(A2:A4, B2:B4, C2:C4, "", "", D2:D4)');
  sheet.getRange(1, 10).setFormula('=SCOPE3_IMPACT_TABLE(A1:C4, "water_ml, km_by_car")');
  sheet.getRange(2, 13).setFormula('=SCOPE3_COMPARE(A2:A4, B2:B4, C2:C4, "gpt-4o-mini", "", "SE", "gco2e")');
  recalculate(gas, sheet);
  gas.takeRequests();
  return { gas, sheet };
}

const sum = (parts) => parts.reduce((total, part) => total + part.value, 0);

describe('explainSelection', () => {
  test('a SCOPE3_IMPACT cell: one request; the parts of its column\'s figure add up to the cell', () => {
    const { gas, sheet } = sheetWithResults();
    sheet.setActiveSelection('G3'); // gco2e of llama_31_8b in US-NY
    const answer = gas.run('explainSelection');
    assert.equal(gas.takeRequests().length, 1);
    assert.deepEqual(answer.cell, { a1: 'G3', value: sheet.getRange('G3').getValue(), column: 'gco2e', side: 'line', formula: 'F2' });
    const e = answer.explanation;
    assert.deepEqual(e.row, { model_id: 'llama_31_8b', input_tokens: 1000, output_tokens: 300, country: 'US', region: 'NY' });
    assert.equal(e.place.country, 'US');
    for (const [column, metric] of [['F', 'energy_wh'], ['G', 'gco2e'], ['H', 'water_ml']]) {
      const cell = sheet.getRange(`${column}3`).getValue();
      assert.equal(e.metrics[metric].value, cell);
      assert.ok(Math.abs(sum(e.metrics[metric].parts) - cell) <= 1e-12 * cell, `${metric}: parts ${sum(e.metrics[metric].parts)} vs ${cell}`);
    }
  });

  test('a table row and a comparison\'s alternative', () => {
    const { gas, sheet } = sheetWithResults();
    sheet.setActiveSelection('K3'); // km_by_car of the table's second data row
    const table = gas.run('explainSelection');
    assert.equal(table.cell.column, 'km_by_car');
    assert.deepEqual(table.explanation.row, { model_id: 'llama_31_8b', input_tokens: 1000, output_tokens: 300 });
    assert.equal(table.explanation.metrics.water_ml.value, sheet.getRange('J3').getValue());

    sheet.setActiveSelection('N4'); // gco2e_difference of the third line: the alternative is explained
    const compared = gas.run('explainSelection');
    assert.equal(compared.cell.side, 'alternative');
    assert.equal(compared.cell.column, 'gco2e');
    assert.deepEqual(compared.explanation.row, { model_id: 'gpt-4o-mini', input_tokens: 2000, output_tokens: 500, country: 'SE' });
    assert.equal(compared.explanation.metrics.gco2e.value, sheet.getRange('M4').getValue());
  });

  test('a cell of a usage row: its line in the first formula, in reading order, whose ranges hold it', () => {
    const { gas, sheet } = sheetWithResults();
    sheet.setActiveSelection('D3'); // llama_31_8b's location: read by the SCOPE3_IMPACT at F2 only
    const answer = gas.run('explainSelection');
    assert.deepEqual(answer.cell, { a1: 'D3', value: 'US-NY', column: null, side: 'row', formula: 'F2' });
    assert.deepEqual(answer.explanation.row, { model_id: 'llama_31_8b', input_tokens: 1000, output_tokens: 300, country: 'US', region: 'NY' });
    assert.equal(answer.explanation.metrics.energy_wh.value, sheet.getRange('F3').getValue());
    sheet.setActiveSelection('B3'); // also in the table J1 reads (A1:C4), which comes first in reading order
    const table = gas.run('explainSelection');
    assert.equal(table.cell.formula, 'J1');
    assert.deepEqual(table.explanation.row, { model_id: 'llama_31_8b', input_tokens: 1000, output_tokens: 300 });
  });

  test('a cell no SCOPE3_ formula filled or reads, or the table\'s header: a readable error and no request', () => {
    const { gas, sheet } = sheetWithResults();
    sheet.setActiveSelection('Q9');
    assert.throws(() => gas.run('explainSelection'), { message: /^Scope3: select a cell filled by =SCOPE3_IMPACT/ });
    sheet.setActiveSelection('J1');
    assert.throws(() => gas.run('explainSelection'), { message: 'Scope3: that is the header row; select a result below it' });
    sheet.getRange(6, 6).setFormula('=SCOPE3_IMPACT(LOWER(A2), 10, 10)'); // not calculated: the harness reads no LOWER
    sheet.setActiveSelection('F6');
    assert.throws(() => gas.run('explainSelection'), { message: 'Scope3: explain reads cell references and literals; argument 1 is LOWER(A2)' });
    assert.equal(gas.takeRequests().length, 0);
  });
});

const browserMissing = missingBrowser();
if (browserMissing && process.env.SCOPE3AI_REQUIRE_SERVICES === '1') {
  test('the Explain sidebar needs a browser', () => assert.fail(`${browserMissing}; SCOPE3AI_REQUIRE_SERVICES=1 forbids skipping`));
}

test('the sidebar in Chromium shows the parts of the selected cell, adding up to its value', { skip: browserMissing || false }, async () => {
  const { gas, sheet } = sheetWithResults();
  sheet.setActiveSelection('G2'); // gco2e of gpt-4o in FR
  gas.run('showExplain');
  assert.equal(gas.ui.sidebars.length, 1);
  assert.equal(gas.ui.sidebars[0].title, 'Scope3: explain this estimate');
  const browser = await launchBrowser();
  const pageErrors = [];
  try {
    const page = await openHtml(browser, { gas, file: 'ExplainSidebar', functions: ['explainSelection'], pageErrors });
    await page.waitForSelector('#content:not([hidden])');
    const cell = sheet.getRange('G2').getValue();
    assert.match(await page.textContent('#cell'), /^Cell G2 \(gco2e\) shows /);
    assert.equal(await page.getAttribute('section.chosen', 'data-metric'), 'gco2e');
    const shown = await page.$$eval('section.chosen tr.part', (rows) => rows.map((row) => Number(row.getAttribute('data-value'))));
    assert.ok(shown.length >= 3, `${shown.length} parts`);
    const total = shown.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - cell) <= 1e-12 * cell, `the parts add up to ${total}, the cell shows ${cell}`);
    const names = await page.$$eval('section.chosen tr.part td:first-child', (cells) => cells.map((c) => c.textContent));
    assert.ok(names[0].startsWith('electricity (') && names[0].includes('FR'), names.join(' | '));
    assert.match(await page.textContent('#facts'), /GPT-4o/);
    assert.match(await page.textContent('#facts'), /Methodology[0-9a-f]{12}/);
    assert.ok((await page.$$('#sources a')).length >= 1, 'the sources link out');
    sheet.setActiveSelection('D3'); // a usage cell: its row's line, nothing highlighted
    await page.click('#again');
    await page.waitForFunction(() => document.getElementById('cell').textContent.startsWith('Row of cell D3'));
    assert.equal(await page.textContent('#cell'), 'Row of cell D3, as the formula at F2 estimates it');
    assert.equal(await page.$('section.chosen'), null);
    await page.click('#close');
    assert.equal(await page.evaluate(() => window.__closed), true);
  } finally {
    await browser.close();
  }
  assert.deepEqual(pageErrors, [], 'the sidebar threw');
});
