'use strict';
// "Insert summary" in the harness against a live gunicorn: the QUERY formulas it writes (totals by model, month
// and place over the usage sheet's SCOPE3 results), the charts it inserts, and a second run that replaces both.

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');

const { createAppsScript } = require('../node_support/appsScript');
const { recalculate } = require('../node_support/formulas');
const { parseA1 } = require('../node_support/fakeSpreadsheet');
const { startServer } = require('../node_support/server');

const USAGE = [
  ['model', 'input_tokens', 'output_tokens', 'location', 'utc_datetime'],
  ['gpt-4o', 1200, 350, 'FR', new Date(Date.UTC(2026, 9, 3))],
  ['llama_31_8b', 1000, 300, 'US-NY', new Date(Date.UTC(2026, 9, 17))],
  ['gpt-4o', 800, 200, 'US-NY', new Date(Date.UTC(2026, 10, 2))],
  ['claude-3-5-sonnet', 2000, 500, '', new Date(Date.UTC(2026, 10, 20))],
  ['', '', '', '', ''],
  ['gpt-4o', 500, 100, 'FR', new Date(Date.UTC(2026, 11, 1))],
];

let server;
let key;

before(async () => {
  server = await startServer();
  key = server.createKey('apps-script-summary');
});

after(async () => {
  if (server) await server.stop();
});

function usageSheet(formulaCell, formula) {
  const gas = createAppsScript({ settings: { url: server.url, key } });
  const sheet = gas.spreadsheet.insertSheet('Usage');
  sheet.getRange(1, 1, USAGE.length, USAGE[0].length).setValues(USAGE);
  sheet.getRange(formulaCell).setFormula(formula);
  recalculate(gas, sheet);
  gas.takeRequests();
  return { gas, sheet };
}

/** The values of a formula's `'Usage'!A2:A7` reference, from the fake sheet. */
function referenced(gas, reference) {
  const [, name, a1] = /^'(.+)'!(.+)$/.exec(reference);
  return gas.spreadsheet.getSheetByName(name).getRange(a1).getValues().map((row) => row[0]);
}

test('the summary totals by model, month and place with live QUERY formulas, and charts them', () => {
  const { gas, sheet } = usageSheet('F2', '=SCOPE3_IMPACT(A2:A7, B2:B7, C2:C7, "", "", D2:D7)');
  const written = gas.run('insertSummary');
  const summary = gas.spreadsheet.getSheetByName('Usage summary');
  assert.ok(summary !== null && written.sheet === 'Usage summary');
  assert.equal(gas.takeRequests().length, 0, 'the summary is formulas: no API call');

  const labels = "label Col1 'model', sum(Col2) 'energy_wh', sum(Col3) 'gco2e', sum(Col4) 'water_ml'";
  const metrics = "'Usage'!F2:F7, 'Usage'!G2:G7, 'Usage'!H2:H7";
  const select = "select Col1, sum(Col2), sum(Col3), sum(Col4) where Col1 <> '' group by Col1";
  assert.equal(summary.getRange('A4').getFormula(), `=QUERY({'Usage'!A2:A7, ${metrics}}, "${select} order by sum(Col3) desc ${labels}", 0)`);
  const month = "ARRAYFORMULA(IF('Usage'!E2:E7=\"\", \"\", TEXT('Usage'!E2:E7, \"yyyy-mm\")))";
  assert.equal(
    summary.getRange('F4').getFormula(),
    `=QUERY({${month}, ${metrics}}, "${select} order by Col1 ${labels.replace("'model'", "'month'")}", 0)`,
  );
  assert.equal(
    summary.getRange('K4').getFormula(),
    `=QUERY({'Usage'!D2:D7, ${metrics}}, "${select} order by sum(Col3) desc ${labels.replace("'model'", "'place'")}", 0)`,
  );
  assert.deepEqual([summary.getRange('A3').getValue(), summary.getRange('F3').getValue(), summary.getRange('K3').getValue()],
    ['By model', 'By month', 'By place']);

  // The references hold what they should: the usage's models and places, and the spilled results by metric.
  const formula = summary.getRange('A4').getFormula();
  const refs = [...formula.matchAll(/'Usage'![A-Z]+\d+:[A-Z]+\d+/g)].map((m) => m[0]);
  assert.deepEqual(referenced(gas, refs[0]), USAGE.slice(1).map((row) => row[0]));
  const results = sheet.getRange('F2:H7').getValues();
  refs.slice(1).forEach((ref, k) => assert.deepEqual(referenced(gas, ref), results.map((row) => row[k]), ref));
  assert.ok(results[0].every((value) => typeof value === 'number' && value > 0));

  const charts = summary.getCharts().map((chart) => ({
    type: chart.type, ranges: chart.getRanges(), title: chart.getOptions().get('title'), position: chart.position, headers: chart.numHeaders,
  }));
  assert.deepEqual(charts, [
    { type: 'PIE', ranges: ['A4:A10', 'C4:C10'], title: 'Share of gco2e by model', position: { row: 3, column: 16, offsetX: 0, offsetY: 0 }, headers: 1 },
    { type: 'COLUMN', ranges: ['F4:F10', 'H4:H10'], title: 'gco2e by month', position: { row: 22, column: 16, offsetX: 0, offsetY: 0 }, headers: 1 },
  ]);

  // Again, from the summary tab itself: the same tab rewritten, its charts replaced, never a second tab.
  summary.getRange('Z1').setValue('left over');
  gas.spreadsheet.setActiveSheet(summary);
  gas.run('insertSummary');
  assert.deepEqual(gas.spreadsheet.getSheets().map((s) => s.getName()), ['Sheet1', 'Usage', 'Usage summary']);
  assert.equal(summary.getCharts().length, 2);
  assert.equal(summary.getRange('Z1').getValue(), '');
  assert.equal(summary.getRange('A4').getFormula(), formula);
});

test('a SCOPE3_IMPACT_TABLE with one metric: its columns found by header, that metric summed', () => {
  const { gas } = usageSheet('G1', '=SCOPE3_IMPACT_TABLE(A1:E7, "water_ml")');
  const written = gas.run('insertSummary');
  const water = "'Usage'!G2:G7";
  assert.equal(written.formulas.model,
    `=QUERY({'Usage'!A2:A7, ${water}}, "select Col1, sum(Col2) where Col1 <> '' group by Col1 order by sum(Col2) desc label Col1 'model', sum(Col2) 'water_ml'", 0)`);
  assert.ok(written.formulas.month.includes("TEXT('Usage'!E2:E7, \"yyyy-mm\")"));
  assert.ok(written.formulas.place.startsWith("=QUERY({'Usage'!D2:D7, "));
  assert.deepEqual(written.charts.map((c) => c.title), ['Share of water_ml by model', 'water_ml by month']);
  const ranges = gas.spreadsheet.getSheetByName('Usage summary').getCharts()[0].getRanges();
  assert.deepEqual(ranges.map((r) => parseA1(r).column), [1, 2]);
});

test('nothing to summarise, or a metric it cannot read: an alert naming why, no tab', () => {
  const empty = createAppsScript({ settings: { url: server.url, key } });
  empty.spreadsheet.insertSheet('Notes').getRange('A1').setValue('no formulas here');
  assert.equal(empty.run('insertSummary'), null);
  assert.match(empty.ui.alerts[0][1], /^Scope3: no SCOPE3_IMPACT or SCOPE3_IMPACT_TABLE formula on "Notes"/);
  assert.equal(empty.spreadsheet.getSheetByName('Notes summary'), null);

  const { gas } = usageSheet('F2', '=SCOPE3_IMPACT(A2:A7, B2:B7, C2:C7, "", "", D2:D7, "embodied_gco2e")');
  assert.equal(gas.run('insertSummary'), null);
  assert.equal(gas.ui.alerts[0][1], 'Scope3: the formula at F2 shows none of energy_wh, gco2e, water_ml to add up');
});
