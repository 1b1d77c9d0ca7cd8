'use strict';
// The Extensions → Scope3 menu: its items, the Models tab from the live server, the example sheet, and
// freezing SCOPE3 results into values.

const assert = require('node:assert/strict');
const { after, before, describe, test } = require('node:test');

const { createAppsScript } = require('../node_support/appsScript');
const { recalculate } = require('../node_support/formulas');
const { startServer, api } = require('../node_support/server');

let server;
let key;

before(async () => {
  server = await startServer();
  key = server.createKey('apps-script-menu');
});

after(async () => {
  if (server) await server.stop();
});

const makeGas = () => createAppsScript({ settings: { url: server.url, key } });

test('onOpen builds the nine items without calling anything that needs authorization', () => {
  for (const trigger of ['onOpen', 'onInstall']) {
    const gas = createAppsScript();
    gas.run(trigger, { authMode: 'NONE' });
    assert.equal(gas.ui.menus.length, 1);
    const [menu] = gas.ui.menus;
    assert.equal(menu.kind, 'addon');
    const items = menu.items.filter((item) => !item.separator);
    assert.deepEqual(items.map((item) => item.caption), [
      'Settings…',
      'Refresh Models tab',
      'Recalculate SCOPE3 formulas',
      'Insert example sheet',
      'Explain this estimate',
      'Insert summary',
      'Freeze results as values',
      'Estimate this sheet as a batch',
      'Show batch progress',
    ]);
    for (const item of items) assert.equal(typeof gas.context[item.functionName], 'function', item.functionName);
    assert.equal(gas.takeRequests().length, 0);
  }
});

test('refreshModelsTab writes the live catalog to the Models tab, replacing what was there', async () => {
  const gas = makeGas();
  const stale = gas.spreadsheet.insertSheet('Models');
  stale.getRange(1, 1, 2, 2).setValues([['old', 'header'], ['x', 'y']]);
  stale.getRange(1500 - 600, 1).setValue('far away junk');

  gas.run('refreshModelsTab');
  const { json } = await api(server, key, 'GET', '/v1/sheets/catalog/models');
  const sheet = gas.spreadsheet.getSheetByName('Models');
  assert.equal(sheet, stale, 'the existing tab is reused');
  assert.ok(json.values.length > 101, `${json.values.length} rows`);
  const width = json.values[0].length;
  const written = sheet.getRange(1, 1, sheet.getLastRow(), sheet.getLastColumn()).getValues();
  assert.equal(sheet.getLastRow(), json.values.length);
  assert.equal(sheet.getLastColumn(), width);
  assert.deepEqual(written, json.values.map((row) => row.map((cell) => (cell === null ? '' : cell))));
  assert.ok(written[0].includes('id') || written[0].some((name) => /model/i.test(name)), written[0].join(', '));
  assert.equal(sheet.getFrozenRows(), 1);
  assert.match(gas.spreadsheet.toasts.at(-1).message, new RegExp(`${json.values.length - 1} models`));

  gas.run('refreshModelsTab');
  assert.equal(gas.spreadsheet.getSheets().filter((s) => s.getName() === 'Models').length, 1);
  assert.equal(sheet.getLastRow(), json.values.length);
});

test("refreshModelsTab lists the account's own models, and a name starting with = stays text", async () => {
  const ownKey = server.createKey('apps-script-menu-own-models');
  const name = '=HYPERLINK("https://evil.example","click me")';
  await api(server, ownKey, 'POST', '/model', {
    id: 'acme-chat-7b',
    name,
    family: 'acme',
    total_params_billions: 7,
    task: 'text-generation',
  });
  const gas = createAppsScript({ settings: { url: server.url, key: ownKey } });
  gas.run('refreshModelsTab');
  const sheet = gas.spreadsheet.getSheetByName('Models');
  const values = sheet.getDataRange().getValues();
  const header = values[0];
  const own = values.find((row) => row[header.indexOf('id')] === 'acme-chat-7b');
  assert.ok(own, 'the account model is listed');
  assert.equal(own[header.indexOf('name')], name);
  assert.deepEqual(sheet.getDataRange().getFormulas().flat().filter(Boolean), []);

  const other = makeGas();
  other.run('refreshModelsTab');
  const otherIds = other.spreadsheet.getSheetByName('Models').getDataRange().getValues().map((row) => row[0]);
  assert.ok(!otherIds.includes('acme-chat-7b'), 'another account does not see it');
});

test('refreshModelsTab creates the tab when missing', () => {
  const gas = makeGas();
  gas.run('refreshModelsTab');
  assert.ok(gas.spreadsheet.getSheetByName('Models').getLastRow() > 101);
});

describe('insertExampleSheet', () => {
  test('twice makes two sheets, and its formulas compute from its own data', () => {
    const gas = makeGas();
    gas.spreadsheet.insertSheet('Scope3 example 2').getRange(1, 1).setValue('mine, keep out');
    gas.run('insertExampleSheet');
    gas.run('insertExampleSheet');
    const names = gas.spreadsheet.getSheets().map((sheet) => sheet.getName());
    assert.deepEqual(names, ['Sheet1', 'Scope3 example 2', 'Scope3 example', 'Scope3 example 3']);
    assert.equal(gas.spreadsheet.getSheetByName('Scope3 example 2').getRange(1, 1).getValue(), 'mine, keep out');

    for (const name of ['Scope3 example', 'Scope3 example 3']) {
      const sheet = gas.spreadsheet.getSheetByName(name);
      const results = recalculate(gas, sheet);
      assert.deepEqual(results.map((r) => r.call.name).sort(), ['SCOPE3_IMPACT', 'SCOPE3_IMPACT_TABLE']);

      const impact = results.find((r) => r.call.name === 'SCOPE3_IMPACT');
      const data = sheet.getRange(2, 1, 8, 6).getValues();
      assert.equal(impact.values.length, data.length, 'one result row per data row');
      impact.values.forEach((row, i) => {
        if (data[i].every((cell) => cell === '')) {
          assert.deepEqual(row, ['', '', ''], 'the blank line stays blank');
        } else {
          row.forEach((cell) => assert.equal(typeof cell, 'number', `${JSON.stringify(data[i])} → ${JSON.stringify(row)}`));
        }
      });
      assert.ok(data.some((row) => row.every((cell) => cell === '')), 'the example includes a blank line');
      // Each argument is the matching data column, rows 2..9, level with the result rows.
      assert.deepEqual(impact.call.args, ['A2:A9', 'B2:B9', 'C2:C9', 'D2:D9', 'E2:E9', 'F2:F9']);
      assert.equal(impact.row, 2);
      assert.deepEqual(sheet.getRange(1, 1, 1, 6).getValues()[0], ['model', 'input_tokens', 'output_tokens', 'task', 'hosting', 'location']);
      assert.equal(sheet.getRange(1, impact.column, 1, 3).getValues()[0].filter(Boolean).length, 3, 'result columns have headers');

      const table = results.find((r) => r.call.name === 'SCOPE3_IMPACT_TABLE');
      assert.deepEqual(table.values[0], ['gco2e']);
      assert.equal(table.values.length, 4);
      table.values.slice(1).forEach((row) => assert.equal(typeof row[0], 'number'));
      const tableRange = table.call.args[0].split(':')[0];
      assert.equal(Number(tableRange.slice(1)), table.row, 'the output header is level with the table header');
    }
  });
});

describe('freezeResults', () => {
  test('replaces SCOPE3 formulas and their spill by values, keeps other formulas', () => {
    const gas = makeGas();
    gas.run('insertExampleSheet');
    const sheet = gas.spreadsheet.getActiveSheet();
    sheet.getRange('H11').setFormula('=SUM(H2:H9)');
    sheet.getRange('K2').setFormula('=H2*1000');
    sheet.getRange('A20').setFormula('=scope3_impact("gpt-4o", 100, 10)');
    recalculate(gas, sheet);
    const before = sheet.getRange(1, 1, sheet.getLastRow(), sheet.getLastColumn()).getValues();
    const formulasBefore = sheet.getRange(1, 1, sheet.getLastRow(), sheet.getLastColumn()).getFormulas();
    assert.ok(typeof before[1][7] === 'number' && typeof before[19][0] === 'number');

    gas.run('freezeResults');
    const afterValues = sheet.getRange(1, 1, sheet.getLastRow(), sheet.getLastColumn()).getValues();
    const afterFormulas = sheet.getRange(1, 1, sheet.getLastRow(), sheet.getLastColumn()).getFormulas();
    assert.deepEqual(afterValues, before, 'every value stays as it was');
    const remaining = afterFormulas.flat().filter(Boolean);
    assert.deepEqual(remaining.sort(), ['=H2*1000', '=SUM(H2:H9)']);
    assert.equal(formulasBefore.flat().filter((f) => /SCOPE3_/i.test(f)).length, 3);
    assert.equal(gas.spreadsheet.toasts.at(-1).message, '3 formulas frozen as values');

    // Nothing is left to call the API.
    gas.takeRequests();
    assert.deepEqual(recalculate(gas, sheet), []);
    assert.equal(gas.takeRequests().length, 0);
  });

  test('an empty sheet: nothing to freeze', () => {
    const gas = makeGas();
    gas.run('freezeResults');
    assert.match(gas.spreadsheet.toasts.at(-1).message, /No SCOPE3 formulas/);
  });

  test('a result row of "#ERROR" and blank spill cells are frozen too', () => {
    const gas = makeGas();
    const sheet = gas.spreadsheet.getActiveSheet();
    sheet.getRange(1, 1, 3, 1).setValues([['gpt-4o'], ['gpt-9'], ['']]);
    sheet.getRange('B1').setFormula('=SCOPE3_IMPACT(A1:A3, 100, 10, "text-generation", "", "", "all")');
    recalculate(gas, sheet);
    const width = sheet.getLastColumn() - 1;
    assert.ok(width >= 10, `"all" spilled ${width} columns`);
    const before = sheet.getDataRange().getValues();
    assert.match(before[1][1], /^#ERROR/);
    gas.run('freezeResults');
    assert.deepEqual(sheet.getDataRange().getValues(), before);
    assert.deepEqual(sheet.getDataRange().getFormulas().flat().filter(Boolean), []);
  });
});

describe('recalculateFormulas', () => {
  test('a formula stuck on "no API URL set" shows numbers once Settings are saved', () => {
    const gas = createAppsScript();
    const sheet = gas.spreadsheet.getActiveSheet();
    const second = gas.spreadsheet.insertSheet('Usage 2');
    sheet.getRange('A1').setFormula('=SCOPE3_IMPACT("gpt-4o", 1000, 200)');
    sheet.getRange('E1').setFormula('=1+1');
    second.getRange('B2').setFormula('=SCOPE3_IMPACT("gpt-4o-mini", 10, 5, "", "", "", "gco2e")');
    recalculate(gas, sheet);
    recalculate(gas, second);
    assert.match(sheet.cell(1, 1).error, /no API URL set/);

    // Sheets runs a custom function again only when its formula or arguments change: nothing has.
    assert.deepEqual(recalculate(gas, sheet, { onlyChanged: true }), []);
    assert.equal(sheet.getRange('A1').getValue(), '#ERROR!');

    gas.run('saveSettings', { url: server.url, key });
    const rerun = recalculate(gas, sheet, { onlyChanged: true });
    assert.deepEqual(rerun.map((r) => r.call.name), ['SCOPE3_IMPACT'], 'only the SCOPE3 formula runs again');
    assert.equal(typeof sheet.getRange('A1').getValue(), 'number');
    assert.equal(typeof sheet.getRange('C1').getValue(), 'number');
    assert.equal(sheet.getRange('A1').getFormula(), '=SCOPE3_IMPACT("gpt-4o", 1000, 200)', 'the formula is kept');
    assert.equal(sheet.getRange('E1').getFormula(), '=1+1');
    assert.equal(recalculate(gas, second, { onlyChanged: true }).length, 1, 'every sheet of the spreadsheet');
    assert.equal(typeof second.getRange('B2').getValue(), 'number');
  });

  test('after a catalog change the menu item brings every formula to the new catalog', async () => {
    const ownKey = server.createKey('apps-script-menu-recalculate');
    await api(server, ownKey, 'POST', '/model', { id: 'acme-recalc-7b', total_params_billions: 7, task: 'text-generation' });
    const gas = createAppsScript({ settings: { url: server.url, key: ownKey } });
    const sheet = gas.spreadsheet.getActiveSheet();
    sheet.getRange(1, 1, 3, 1).setValues([['acme-recalc-7b'], ['gpt-4o'], ['acme-recalc-7b']]);
    sheet.getRange('B1').setFormula('=SCOPE3_IMPACT(A1:A3, 1000, 300)');
    recalculate(gas, sheet);
    const before = sheet.getRange(1, 2, 3, 1).getValues();
    gas.takeRequests();

    await api(server, ownKey, 'PUT', '/model/acme-recalc-7b', { total_params_billions: 70 });
    // Unchanged, the formula would keep its cached numbers.
    assert.deepEqual(recalculate(gas, sheet, { onlyChanged: true }), []);

    assert.equal(gas.run('recalculateFormulas'), 1);
    assert.equal(gas.spreadsheet.toasts.at(-1).message, '1 formula recalculated');
    recalculate(gas, sheet, { onlyChanged: true });
    const afterValues = sheet.getRange(1, 2, 3, 1).getValues();
    const requests = gas.takeRequests();
    assert.deepEqual(requests.map((r) => new URL(r.url).pathname), ['/model', '/v1/sheets/impact']);
    assert.ok(afterValues[0][0] > before[0][0] * 2, `${before[0][0]} Wh -> ${afterValues[0][0]} Wh at 10× the parameters`);
    assert.equal(afterValues[1][0], before[1][0], 'gpt-4o is unchanged');
  });

  test('without settings it still rewrites the formulas and says why numbers may not come', () => {
    const gas = createAppsScript();
    gas.spreadsheet.getActiveSheet().getRange('A1').setFormula('=SCOPE3_IMPACT("gpt-4o", 1, 1)');
    assert.equal(gas.run('recalculateFormulas'), 1);
    assert.match(gas.spreadsheet.toasts.at(-1).message, /^1 formula recalculated \(Scope3: no API URL set/);
    assert.equal(gas.takeRequests().length, 0);
  });
});
