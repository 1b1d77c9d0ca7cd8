'use strict';
// Extensions → Scope3 → "Estimate this sheet as a batch" against a live gunicorn with a job queue on Redis and a
// real `python -m server batch-worker`: one POST for the sheet, the task followed until it completes, and results
// written to a new sheet level with the source, equal to what POST /v1/impact gives for the same rows. The sidebar
// runs in headless Chromium.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');

const { createAppsScript, SCRIPT_DIR } = require('../node_support/appsScript');
const { launchBrowser, missingBrowser, openHtml } = require('../node_support/htmlPage');
const { impactRow } = require('../node_support/impactRow');
const { random } = require('../node_support/random');
const { startServer, redisProblem, impactRows, defaultMetrics, listModels } = require('../node_support/server');

const REQUIRE_SERVICES = process.env.SCOPE3AI_REQUIRE_SERVICES === '1';
const HEADER = ['model', 'input_tokens', 'output_tokens', 'task', 'hosting', 'location'];
const DATA_ROWS = 300;
const BLANK_ROWS = new Set([40, 41, 250]);
// Data rows (0-based, below the header) the server cannot estimate, and what makes them bad.
const BAD_ROWS = {
  10: { model: 'gpt-9' },
  100: { input_tokens: -5 },
  150: { output_tokens: 'lots' },
  200: { hosting: 'no-such-node' },
};
const SIDEBAR_FUNCTIONS = ['batchProgress', 'writeBatchResults'];
const TASK_TIMEOUT_MS = 90_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const redisMissing = redisProblem();
const browserMissing = missingBrowser();
// A server without a job queue, and (when Redis answers) one with a queue for the batch workers.
let plain;
let server;

before(async () => {
  [plain, server] = await Promise.all([startServer(), redisMissing ? null : startServer({ batchQueue: true })]);
});

after(async () => {
  await Promise.all([plain, server].filter(Boolean).map((running) => running.stop()));
});

/** A sheet named `name` holding `values` from its first row, made the active sheet. */
function fillSheet(gas, name, values) {
  const sheet = gas.spreadsheet.insertSheet(name);
  sheet.getRange(1, 1, values.length, values[0].length).setValues(values);
  return sheet;
}

/** Every cell of a sheet from A1 to its last row and column. */
const cells = (sheet) => sheet.getRange(1, 1, sheet.getLastRow(), sheet.getLastColumn()).getValues();

test('without settings, on an empty sheet, or before any task: a readable message and no request', () => {
  const unset = createAppsScript();
  fillSheet(unset, 'Usage', [HEADER, ['gpt-4o', 100, 10, '', '', '']]);
  assert.equal(unset.run('estimateSheetAsBatch'), null);
  assert.deepEqual(unset.ui.alerts, [['Scope3 batch', 'Scope3: no API URL set — Extensions → Scope3 → Settings…', 'OK']]);

  const empty = createAppsScript({ settings: { url: 'http://127.0.0.1:9', key: 's3ai_unused-key-000000000000' } });
  empty.run('estimateSheetAsBatch');
  assert.match(empty.ui.alerts[0][1], /^Scope3: "Sheet1" is empty — put a header row \(model, input_tokens/);

  for (const name of ['batchProgress', 'writeBatchResults']) {
    assert.throws(() => empty.run(name), { message: 'Scope3: no batch task yet — Extensions → Scope3 → Estimate this sheet as a batch' });
  }
  assert.equal(empty.run('showBatchProgress'), null);
  assert.deepEqual(empty.ui.alerts.at(-1), ['Scope3 batch', 'Scope3: no batch task yet — Extensions → Scope3 → Estimate this sheet as a batch', 'OK']);
  for (const gas of [unset, empty]) {
    assert.equal(gas.takeRequests().length, 0);
    assert.deepEqual(gas.ui.sidebars, []);
    assert.equal(gas.stores.document.getProperty('SCOPE3_BATCH_TASK'), null);
  }
});

test('a server without a job queue: its 503 is explained, nothing is saved, no sidebar opens', () => {
  const gas = createAppsScript({ settings: { url: plain.url, key: plain.adminKey } });
  fillSheet(gas, 'Usage', [HEADER, ['gpt-4o', 100, 10, '', '', '']]);
  gas.run('estimateSheetAsBatch');
  assert.equal(gas.ui.alerts.length, 1);
  assert.match(gas.ui.alerts[0][1], /^Scope3: the server has no job queue, so it cannot run batches \(HTTP 503\)/);
  assert.equal(gas.takeRequests().length, 1);
  assert.deepEqual(gas.ui.sidebars, []);
  assert.equal(gas.stores.document.getProperty('SCOPE3_BATCH_TASK'), null);
});

if (redisMissing && REQUIRE_SERVICES) {
  test('batch jobs need Redis', () => {
    assert.fail(`${redisMissing}; SCOPE3AI_REQUIRE_SERVICES=1 forbids skipping`);
  });
}
if (browserMissing && REQUIRE_SERVICES) {
  test('the batch sidebar needs a browser', () => {
    assert.fail(`${browserMissing}; SCOPE3AI_REQUIRE_SERVICES=1 forbids skipping`);
  });
}

describe('a 300-row sheet as a batch, with a job queue and a batch worker', { skip: redisMissing || false }, () => {
  let key;
  let worker = null;
  // The source sheet's cells (header first) and the results sheet expected for it, row for row.
  let values;
  let expected;

  const makeGas = () => createAppsScript({ settings: { url: server.url, key } });

  before(async () => {
    key = server.createKey('apps-script-batch');
    const catalog = await listModels(server, key);
    const models = catalog.filter((m) => m.task === 'text-generation').map((m) => m.id).sort().filter((_, i) => i % 8 === 0);
    assert.ok(models.length >= 20, `only ${models.length} text-generation models`);
    const hostings = ['', '', 'aws-bedrock', 'azure-openai', 'google-vertex'];
    const locations = ['', '', 'FR', 'US-NY', 'DE', 'us-east-1'];
    const next = random(20261123);
    const pick = (list) => list[Math.floor(next() * list.length)];

    const lines = [];
    for (let i = 0; i < DATA_ROWS; i++) {
      lines.push(BLANK_ROWS.has(i) ? null : {
        model: pick(models),
        input_tokens: 1 + Math.floor(next() * 20000),
        output_tokens: Math.floor(next() * 4000),
        task: 'text-generation',
        hosting: pick(hostings),
        location: pick(locations),
        ...BAD_ROWS[i],
      });
    }
    values = [HEADER].concat(lines.map((line) => (line ? HEADER.map((name) => line[name]) : HEADER.map(() => ''))));

    // Good rows: the numbers /v1/impact gives. Bad rows: the reason SCOPE3_IMPACT_TABLE shows for the same row.
    const good = lines.map((line, i) => (line && !BAD_ROWS[i] ? i : null)).filter((i) => i !== null);
    const answers = await impactRows(server, key, good.map((i) => impactRow(lines[i])));
    const metrics = new Map(good.map((i, j) => {
      assert.ok(!answers[j].error, `row ${i + 2} ${JSON.stringify(lines[i])}: ${JSON.stringify(answers[j].error)}`);
      return [i, defaultMetrics(answers[j])];
    }));
    const functions = makeGas();
    const reasons = new Map(Object.keys(BAD_ROWS).map(Number).map((i) => {
      const [, [shown]] = functions.customFunction('SCOPE3_IMPACT_TABLE', [HEADER, values[i + 1]]);
      assert.match(shown, /^#ERROR /, `row ${i + 2}`);
      return [i, shown.slice('#ERROR '.length)];
    }));
    expected = [['energy_wh', 'gco2e', 'water_ml', 'error']].concat(lines.map((line, i) => {
      if (!line) return ['', '', '', ''];
      if (BAD_ROWS[i]) return ['', '', '', reasons.get(i)];
      return [...metrics.get(i), ''];
    }));
    const [unknownModel] = await impactRows(server, key, [impactRow(lines[10])]);
    assert.equal(reasons.get(10), unknownModel.error.message);
  });

  // One worker serves the tests in turn; a test that shows a task waiting for it stops it first.
  function startWorker() {
    if (!worker) worker = server.startBatchWorker();
  }

  async function stopWorker() {
    if (worker) await worker.stop();
    worker = null;
  }

  /** Polls batchProgress as the sidebar does until the task ends; the statuses seen on the way, in order. */
  async function pollUntilDone(gas) {
    const seen = [];
    const deadline = Date.now() + TASK_TIMEOUT_MS;
    for (;;) {
      const task = gas.run('batchProgress');
      if (seen.at(-1) !== task.status) seen.push(task.status);
      if (task.status === 'completed' || task.status === 'failed') return { task, seen };
      if (worker && worker.exited()) assert.fail(`the batch worker exited: ${worker.log().slice(-2000)}`);
      if (Date.now() > deadline) assert.fail(`task still ${task.status} after ${TASK_TIMEOUT_MS} ms: ${worker && worker.log().slice(-2000)}`);
      await sleep(200);
    }
  }

  test('one POST of the sheet, the task saved, the sidebar opened; results written row for row', async () => {
    await stopWorker();
    const gas = makeGas();
    fillSheet(gas, 'Usage', values);
    gas.takeRequests();

    const started = Date.now();
    const task = gas.run('estimateSheetAsBatch');
    const [post] = gas.takeRequests();
    assert.equal(post.method, 'POST');
    assert.equal(post.url, `${server.url}/v1/batch`);
    assert.equal(post.headers.Authorization, `Bearer ${key}`);
    assert.deepEqual(JSON.parse(post.body), { table: values, first_row: 1 });
    assert.deepEqual(gas.ui.alerts, []);
    assert.equal(gas.ui.sidebars.length, 1);
    assert.equal(gas.ui.sidebars[0].title, 'Scope3 batch');
    assert.equal(gas.ui.sidebars[0].html.getContent(), fs.readFileSync(path.join(SCRIPT_DIR, 'BatchSidebar.html'), 'utf8'));
    assert.equal(task.sheet, 'Usage');
    assert.equal(task.first_row, 1);
    assert.equal(task.total_items, DATA_ROWS - BLANK_ROWS.size);
    assert.ok(Math.abs(Date.parse(task.submitted_at) - started) < 60_000, task.submitted_at);
    assert.deepEqual(JSON.parse(gas.stores.document.getProperty('SCOPE3_BATCH_TASK')), task);
    // Closed and reopened from the menu, the sidebar follows the same task.
    assert.deepEqual(gas.run('showBatchProgress'), task);
    assert.equal(gas.ui.sidebars.length, 2);
    assert.equal(gas.ui.sidebars[1].html.getContent(), gas.ui.sidebars[0].html.getContent());
    assert.equal(gas.takeRequests().length, 0);

    // No worker yet: the task waits in the queue, and so do its results.
    const queued = gas.run('batchProgress');
    assert.deepEqual(queued, {
      task_id: task.task_id,
      sheet: 'Usage',
      status: 'queued',
      total_items: 297,
      counts: { queued: 297, completed: 0, failed: 0 },
      progress: 0,
      error: null,
    });
    assert.throws(() => gas.run('writeBatchResults'), /^Error: Scope3: task \S+ is queued \(0% done\); results come when it completes \(HTTP 409\)$/);
    assert.deepEqual(gas.spreadsheet.getSheets().map((s) => s.getName()), ['Sheet1', 'Usage']);

    startWorker();
    const { task: done, seen } = await pollUntilDone(gas);
    assert.deepEqual(done.counts, { queued: 0, completed: 293, failed: 4 });
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.progress, 1);
    assert.equal(seen[0], 'queued');

    gas.takeRequests();
    assert.deepEqual(gas.run('writeBatchResults'), { sheet: 'Usage impacts', rows: 297, failed: 4 });
    const [download] = gas.takeRequests();
    assert.equal(download.url, `${server.url}/v1/batch/task/${task.task_id}/results?format=csv&metric=`);
    const written = gas.spreadsheet.getSheetByName('Usage impacts');
    assert.equal(written.getLastRow(), DATA_ROWS + 1);
    assert.equal(written.getLastColumn(), 4);
    const got = cells(written);
    got.forEach((row, r) => assert.deepEqual(row, expected[r], `sheet row ${r + 1}: ${JSON.stringify(values[r])}`));
    assert.match(got[11][3], /^unknown model 'gpt-9'/);
    assert.equal(got[101][3], 'input_tokens: must be 0 or more, got -5');
    assert.equal(got[151][3], "output_tokens: expected a number, got 'lots'");
    assert.match(got[201][3], /^hosting: 'no-such-node' is not/);
    assert.equal(written.getFrozenRows(), 1);
    assert.deepEqual(cells(gas.spreadsheet.getSheetByName('Usage')), values, 'the source is untouched');

    // As wide and as long as what is written: not a new sheet's 26 columns.
    assert.equal(written.getMaxColumns(), 4);
    assert.equal(written.getMaxRows(), DATA_ROWS + 1);

    // Written again (renamed by the user meanwhile): the same tab, replaced in place.
    written.name = 'Usage results';
    written.getRange(5, 4).setValue('a note in the way');
    assert.deepEqual(gas.run('writeBatchResults'), { sheet: 'Usage results', rows: 297, failed: 4 });
    assert.deepEqual(cells(written), expected);
    assert.deepEqual(gas.spreadsheet.getSheets().map((s) => s.getName()), ['Sheet1', 'Usage', 'Usage results']);
  });

  test('a table under blank rows: the header row is sent as first_row and the results start there', async () => {
    startWorker();
    const gas = makeGas();
    const sheet = gas.spreadsheet.getActiveSheet();
    sheet.getRange(3, 1, 4, 3).setValues([['model', 'input_tokens', 'output_tokens'], ['gpt-4o', 1000, 500], ['', '', ''], ['gpt-4o-mini', 10, 1]]);
    const task = gas.run('estimateSheetAsBatch');
    assert.equal(task.first_row, 3);
    assert.equal(task.total_items, 2);
    assert.equal((await pollUntilDone(gas)).task.status, 'completed');
    assert.deepEqual(gas.run('writeBatchResults'), { sheet: 'Sheet1 impacts', rows: 2, failed: 0 });
    const [a, b] = await impactRows(server, key, [
      { model_id: 'gpt-4o', input_tokens: 1000, output_tokens: 500 },
      { model_id: 'gpt-4o-mini', input_tokens: 10, output_tokens: 1 },
    ]);
    assert.deepEqual(cells(gas.spreadsheet.getSheetByName('Sheet1 impacts')), [
      ['', '', '', ''],
      ['', '', '', ''],
      ['energy_wh', 'gco2e', 'water_ml', 'error'],
      [...defaultMetrics(a), ''],
      ['', '', '', ''],
      [...defaultMetrics(b), ''],
    ]);
  });

  test('results tabs: one per source sheet, sized to the results, never over a sheet of the user\'s', () => {
    const gas = makeGas();
    const usage = fillSheet(gas, 'Usage', [['model'], ['gpt-4o']]);
    const other = fillSheet(gas, 'Other', [['model'], ['gpt-4o']]);
    const mine = gas.spreadsheet.insertSheet('Usage impacts');
    mine.getRange('A1').setValue('my own sheet');
    const grid = (rows, width) => [
      ['energy_wh', 'gco2e', 'water_ml', 'error'].slice(4 - width),
      ...Array.from({ length: rows }, (_, i) => Array.from({ length: width }, (_, c) => (c === width - 1 ? '' : i + c))),
    ];
    const place = (sheet, rows, width = 4, firstRow = 1) =>
      gas.context.placeBatchResults_({ sheet: sheet.getName(), sheet_id: sheet.getSheetId(), first_row: firstRow }, grid(rows, width));

    // 100,000 results: 400,004 cells, however often they are written.
    const before = gas.spreadsheet.cellCount();
    for (let round = 0; round < 3; round++) place(usage, 100000);
    const tab = gas.spreadsheet.getSheets().find((s) => s.getName() === 'Usage impacts 2');
    assert.ok(tab, gas.spreadsheet.getSheets().map((s) => s.getName()).join(', '));
    assert.equal(tab.getMaxRows(), 100001);
    assert.equal(tab.getMaxColumns(), 4);
    assert.equal(gas.spreadsheet.cellCount() - before, 100001 * 4);
    assert.deepEqual(tab.getRange(100001, 1, 1, 4).getValues(), [[99999, 100000, 100001, '']]);
    assert.equal(tab.getFrozenRows(), 1);
    assert.deepEqual(mine.dump(), { A1: 'my own sheet' }, "the user's sheet is untouched");

    // Fewer, narrower results later: the tab shrinks, nothing of the old results is left.
    place(usage, 10, 2, 3);
    assert.equal(tab.getMaxRows(), 13);
    assert.equal(tab.getMaxColumns(), 2);
    assert.deepEqual(tab.getRange(1, 1, 4, 2).getValues(), [['', ''], ['', ''], ['water_ml', 'error'], [0, '']]);
    assert.equal(tab.getFrozenRows(), 3);

    place(other, 5);
    assert.deepEqual(gas.spreadsheet.getSheets().map((s) => s.getName()), ['Sheet1', 'Usage', 'Other', 'Usage impacts', 'Usage impacts 2', 'Other impacts']);
    assert.deepEqual(JSON.parse(gas.stores.document.getProperty('SCOPE3_BATCH_RESULTS')), {
      [usage.getSheetId()]: tab.getSheetId(),
      [other.getSheetId()]: gas.spreadsheet.getSheetByName('Other impacts').getSheetId(),
    });
  });

  test('the harness spreadsheet refuses to grow past 10 million cells', () => {
    const gas = makeGas();
    const sheet = gas.spreadsheet.getActiveSheet();
    assert.throws(() => sheet.insertRowsAfter(1000, 400000), /above the limit of 10000000 cells/);
    sheet.insertRowsAfter(1000, 383000);
    assert.throws(() => gas.spreadsheet.insertSheet('one more'), /above the limit/);
  });

  test('a header naming an unknown field: the server\'s message in an alert, nothing saved', () => {
    const gas = makeGas();
    fillSheet(gas, 'Usage', [['model', 'colour'], ['gpt-4o', 'red']]);
    gas.run('estimateSheetAsBatch');
    assert.deepEqual(gas.ui.alerts, [[
      'Scope3 batch',
      "Scope3: table: column 2 is headed 'colour', which is not an impact-row field (did you mean country?) (HTTP 400)",
      'OK',
    ]]);
    assert.equal(gas.takeRequests().length, 1);
    assert.deepEqual(gas.ui.sidebars, []);
    assert.equal(gas.stores.document.getProperty('SCOPE3_BATCH_TASK'), null);
  });

  test('the sidebar in Chromium shows the queued task, then writes the results when it completes', { skip: browserMissing || false }, async () => {
    const [browser] = await Promise.all([launchBrowser(), stopWorker()]);
    const gas = makeGas();
    fillSheet(gas, 'Usage', values);
    const task = gas.run('estimateSheetAsBatch');
    const pageErrors = [];
    try {
      const page = await openHtml(browser, { gas, file: 'BatchSidebar', functions: SIDEBAR_FUNCTIONS, pageErrors });
      const text = (id) => page.textContent(`#${id}`);
      await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Queued'));
      assert.equal(await text('sheet'), 'Batch estimate of "Usage"');
      assert.equal(await text('task'), `Task ${task.task_id}`);
      assert.equal(await text('counts'), '0 of 297 rows estimated');
      assert.equal(await text('status'), 'Queued: waiting for a batch worker…');
      assert.equal(await page.getAttribute('#bar', 'aria-valuenow'), '0');
      assert.equal(await page.isVisible('#write'), false);

      startWorker();
      await page.waitForFunction(() => /^(ok|error)$/.test(document.getElementById('status').className), null, { timeout: TASK_TIMEOUT_MS });
      assert.equal(await text('status'), 'Done: 297 rows written to the sheet "Usage impacts" (4 with an error in its error column).');
      assert.equal(await page.getAttribute('#status', 'class'), 'ok');
      assert.equal(await text('counts'), '297 of 297 rows estimated · 4 with an error');
      assert.equal(await page.getAttribute('#bar', 'aria-valuenow'), '100');
      assert.deepEqual(cells(gas.spreadsheet.getSheetByName('Usage impacts')), expected);

      await page.click('#write');
      await page.waitForFunction(() => window.__gasCalls.filter((name) => name === 'writeBatchResults').length === 2);
      await page.waitForFunction(() => /^(ok|error)$/.test(document.getElementById('status').className));
      assert.equal(await text('status'), 'Done: 297 rows written to the sheet "Usage impacts" (4 with an error in its error column).');
      assert.deepEqual(cells(gas.spreadsheet.getSheetByName('Usage impacts')), expected);
      assert.equal(gas.spreadsheet.getSheetByName('Usage impacts 2'), null, 'written again in place');
      const calls = await page.evaluate(() => window.__gasCalls);
      assert.deepEqual(calls.filter((name) => name === 'writeBatchResults'), ['writeBatchResults', 'writeBatchResults']);
      assert.ok(calls.filter((name) => name === 'batchProgress').length >= 2, calls.join(', '));

      await page.click('#close');
      assert.equal(await page.evaluate(() => window.__closed), true);
    } finally {
      await browser.close();
    }
    assert.deepEqual(pageErrors, [], 'the sidebar threw');
  });
});
