'use strict';
// SCOPE3_IMPACT, SCOPE3_COMPARE and SCOPE3_IMPACT_TABLE against a live gunicorn: HTTP calls per range, the cache, per-line
// errors, metrics, and values equal to what POST /v1/impact gives for the same rows.

const assert = require('node:assert/strict');
const { after, before, describe, test } = require('node:test');
const vm = require('node:vm');

const { createAppsScript } = require('../node_support/appsScript');
const { impactRowFromCells } = require('../node_support/impactRow');
const { random } = require('../node_support/random');
const { startServer, impactRows, defaultMetrics, listModels } = require('../node_support/server');

let server;
let key;
let catalog;

before(async () => {
  server = await startServer();
  key = server.createKey('apps-script-functions');
  catalog = await listModels(server, key);
});

after(async () => {
  if (server) await server.stop();
});

/** A column range as Sheets passes it: [[v1], [v2], ...]. */
const column = (values) => values.map((value) => [value]);

function assertNumberRow(row, width, where) {
  assert.equal(row.length, width, `${where}: ${JSON.stringify(row)}`);
  row.forEach((cell) => assert.equal(typeof cell, 'number', `${where}: ${JSON.stringify(row)}`));
}

function makeGas() {
  return createAppsScript({ settings: { url: server.url, key } });
}

describe('SCOPE3_IMPACT over a 5,000-line range', () => {
  const LINES = 5000;
  let lines;
  let expected;

  before(async () => {
    const textModels = catalog.filter((m) => m.task === 'text-generation').map((m) => m.id).sort();
    const models = textModels.filter((_, i) => i % 8 === 0);
    assert.ok(models.length >= 20, `only ${models.length} text-generation models`);
    const hostings = ['', '', 'aws-bedrock', 'azure-openai', 'google-vertex', 'aws:p4d.24xlarge', 'aws-p4de-24xlarge'];
    const locations = ['', '', 'FR', 'US-NY', 'DE', 'us-east-1', 'eu-west-1', 'SE'];
    const next = random(20261122);
    const pick = (list) => list[Math.floor(next() * list.length)];
    lines = [];
    for (let i = 0; i < LINES; i++) {
      lines.push({
        model: pick(models),
        input_tokens: 1 + Math.floor(next() * 20000),
        output_tokens: Math.floor(next() * 4000),
        hosting: pick(hostings),
        location: pick(locations),
      });
    }
    const rows = await impactRows(server, key, lines.map((line) => impactRowFromCells({ ...line, task: 'text-generation' })));
    rows.forEach((row, i) => assert.ok(!row.error, `line ${i} ${JSON.stringify(lines[i])}: ${JSON.stringify(row.error)}`));
    expected = rows.map(defaultMetrics);
  });

  const call = (gas) =>
    gas.customFunction(
      'SCOPE3_IMPACT',
      column(lines.map((l) => l.model)),
      column(lines.map((l) => l.input_tokens)),
      column(lines.map((l) => l.output_tokens)),
      'text-generation',
      column(lines.map((l) => l.hosting)),
      column(lines.map((l) => l.location)),
    );

  test('one fetchAll of at most 2 requests; every value equals /v1/impact; a recalculation makes none', () => {
    const gas = makeGas();
    const values = call(gas);
    const requests = gas.takeRequests();
    assert.ok(requests.length >= 1 && requests.length <= 2, `${requests.length} HTTP calls`);
    assert.equal(values.length, LINES);
    values.forEach((row, i) => {
      assertNumberRow(row, 3, `line ${i}`);
      assert.deepEqual(row, expected[i], `line ${i} ${JSON.stringify(lines[i])}`);
    });

    assert.deepEqual(call(gas), values);
    assert.equal(gas.takeRequests().length, 0, 'an unchanged recalculation must not call the API');
    assert.ok(gas.caches.document.calls.largestBatch <= 500, `${gas.caches.document.calls.largestBatch} keys in one cache call`);
  });

  test('after one edited line only its block of 250 lines is asked for', () => {
    const gas = makeGas();
    call(gas);
    gas.takeRequests();
    const edited = lines.map((line, i) => (i === 1234 ? { ...line, input_tokens: line.input_tokens + 1 } : line));
    const values = gas.customFunction(
      'SCOPE3_IMPACT',
      column(edited.map((l) => l.model)),
      column(edited.map((l) => l.input_tokens)),
      column(edited.map((l) => l.output_tokens)),
      'text-generation',
      column(edited.map((l) => l.hosting)),
      column(edited.map((l) => l.location)),
    );
    const requests = gas.takeRequests();
    assert.equal(requests.length, 1);
    const body = JSON.parse(requests[0].body);
    // Line 1234 is in the block of lines 1000-1249; identical lines of a block go out once.
    const block = edited.slice(1000, 1250);
    const distinct = [...new Map(block.map((l) => [JSON.stringify(l), l])).values()];
    assert.deepEqual(body.args.model, column(distinct.map((l) => l.model)));
    assert.deepEqual(body.args.input_tokens, column(distinct.map((l) => l.input_tokens)));
    assert.ok(body.args.input_tokens.some(([n]) => n === edited[1234].input_tokens));
    assert.equal(body.args.task, 'text-generation', 'a scalar argument stays a scalar');
    assert.equal(values.length, LINES);
    assert.notDeepEqual(values[1234], expected[1234]);
    assert.deepEqual(values[1233], expected[1233]);
    assert.deepEqual(values[999], expected[999]);
  });

  test('a scalar call gives exactly one row, equal to /v1/impact', async () => {
    const gas = makeGas();
    const values = gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 1000, 500);
    assert.equal(gas.takeRequests().length, 1);
    const [row] = await impactRows(server, key, [{ model_id: 'gpt-4o', input_tokens: 1000, output_tokens: 500 }]);
    assert.deepEqual(values, [defaultMetrics(row)]);
  });
});

test('cached results last 6 hours, then are asked for again', () => {
  const gas = makeGas();
  const first = gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 1000, 500, '', 'aws-bedrock', 'FR');
  assert.equal(gas.takeRequests().length, 1);
  gas.clock.offsetMs = 21599 * 1000;
  assert.deepEqual(gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 1000, 500, '', 'aws-bedrock', 'FR'), first);
  assert.equal(gas.takeRequests().length, 0);
  gas.clock.offsetMs = 21601 * 1000;
  assert.deepEqual(gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 1000, 500, '', 'aws-bedrock', 'FR'), first);
  assert.equal(gas.takeRequests().length, 1);
});

test('another key or another URL does not reuse cached results', () => {
  const gas = createAppsScript({ settings: { url: server.url, key }, allow: [server.url.replace('127.0.0.1', 'localhost')] });
  gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 1000, 500);
  gas.stores.document.setProperty('SCOPE3_API_KEY', server.createKey('apps-script-functions-2'));
  gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 1000, 500);
  gas.stores.document.setProperty('SCOPE3_API_URL', server.url.replace('127.0.0.1', 'localhost'));
  gas.customFunction('SCOPE3_IMPACT', 'gpt-4o', 1000, 500);
  assert.equal(gas.takeRequests().length, 3);
});

test('10,000 distinct lines go out as 2 requests in one fetchAll', () => {
  const gas = makeGas();
  const n = 10000;
  const values = gas.customFunction(
    'SCOPE3_IMPACT',
    'gpt-4o-mini',
    column(Array.from({ length: n }, (_, i) => i + 1)),
    column(Array.from({ length: n }, () => 100)),
  );
  assert.deepEqual(gas.http.batches, [2]);
  const requests = gas.takeRequests();
  assert.deepEqual(requests.map((r) => JSON.parse(r.body).args.input_tokens.length), [5000, 5000]);
  assert.equal(values.length, n);
  values.forEach((row, i) => assertNumberRow(row, 3, `line ${i}`));
  assert.ok(values[n - 1][0] > values[0][0], 'more input tokens, more energy');
});

test('mixed input: blanks stay blank, text numbers work, each bad line names its problem', async () => {
  const lines = [
    ['gpt-4o', 1200, 300],
    ['', '', ''],
    ['gpt-4o-mini', '1200', ' 300 '],
    ['gpt-9', 100, 100],
    ['llama_31_8b', -5, 10],
    ['', '', ''],
    ['claude-3-5-sonnet', 500, 'lots'],
    ['gpt-4o', 1200, 300],
  ];
  const call = (gas) =>
    gas.customFunction(
      'SCOPE3_IMPACT',
      column(lines.map((l) => l[0])),
      column(lines.map((l) => l[1])),
      column(lines.map((l) => l[2])),
    );
  const gas = makeGas();
  const values = call(gas);
  assert.equal(gas.takeRequests().length, 1);
  assert.equal(values.length, lines.length);

  const good = [0, 2, 7];
  const expected = await impactRows(
    server,
    key,
    good.map((i) => impactRowFromCells({ model: lines[i][0], input_tokens: lines[i][1], output_tokens: lines[i][2] })),
  );
  good.forEach((i, j) => {
    assertNumberRow(values[i], 3, `line ${i}`);
    assert.deepEqual(values[i], defaultMetrics(expected[j]), `line ${i}`);
  });
  assert.deepEqual(values[1], ['', '', '']);
  assert.deepEqual(values[5], ['', '', '']);
  const errors = { 3: /^#ERROR .*gpt-9/, 4: /^#ERROR .*input_tokens/, 6: /^#ERROR .*output_tokens/ };
  Object.entries(errors).forEach(([i, pattern]) => {
    assert.equal(values[i].length, 3, `line ${i}: ${JSON.stringify(values[i])}`);
    assert.match(values[i][0], pattern);
    assert.deepEqual(values[i].slice(1), ['', '']);
  });
  assert.match(values[4][0], /-5/);

  // A bad line's message depends only on the line and the catalog, so it is cached with the catalog version
  // like any other result.
  assert.deepEqual(call(gas), values);
  assert.equal(gas.takeRequests().length, 0, 'an unchanged range with bad lines makes no call');
});

describe('SCOPE3_IMPACT_TABLE', () => {
  const HEADER = ['model', 'task', 'input_tokens', 'output_tokens', 'output_images', 'input_audio_seconds', 'output_video_frames'];
  let table;
  let expected;

  before(async () => {
    const byTask = (task) => catalog.filter((m) => m.task === task).map((m) => m.id).sort();
    const text = byTask('text-generation').slice(0, 30);
    const images = byTask('text-to-image');
    const speech = byTask('speech-to-text');
    // The catalog files text-to-video generators under multimodal-generation.
    const video = byTask('multimodal-generation').filter((id) => /t2v|video/.test(id) && !/img2vid/.test(id));
    assert.ok(images.length >= 3 && speech.length >= 3 && video.length >= 2, 'catalog lacks image/speech/video models');
    const next = random(7);
    const pick = (list) => list[Math.floor(next() * list.length)];
    table = [HEADER];
    const rows = [];
    for (let i = 0; i < 100; i++) {
      const kind = i % 4;
      if (kind === 0 || kind === 1) {
        const cells = [pick(text), 'text-generation', 1 + Math.floor(next() * 5000), Math.floor(next() * 1000), '', '', ''];
        table.push(cells);
        rows.push({ model_id: cells[0], task: cells[1], input_tokens: cells[2], output_tokens: cells[3] });
      } else if (kind === 2 && i % 8 === 2) {
        const size = pick(['512x512', '1024x1024', '1024x1792']);
        const cells = [pick(images), 'text-to-image', 20 + Math.floor(next() * 100), '', size, '', ''];
        table.push(cells);
        rows.push({ model_id: cells[0], task: cells[1], input_tokens: cells[2], output_images: [size] });
      } else if (kind === 2) {
        const seconds = 1 + Math.floor(next() * 600);
        const cells = [pick(speech), 'speech-to-text', '', '', '', seconds, ''];
        table.push(cells);
        rows.push({ model_id: cells[0], task: cells[1], input_audio_seconds: seconds });
      } else {
        const frames = 16 + Math.floor(next() * 120);
        const cells = [pick(video), 'text-to-video', 30 + Math.floor(next() * 50), '', '', '', frames];
        table.push(cells);
        rows.push({ model_id: cells[0], task: cells[1], input_tokens: cells[2], output_video_frames: frames });
      }
    }
    const answers = await impactRows(server, key, rows);
    answers.forEach((row, i) => assert.ok(!row.error, `row ${i} ${JSON.stringify(rows[i])}: ${JSON.stringify(row.error)}`));
    expected = answers.map(defaultMetrics);
  });

  test('a header row plus one row per data row, equal to /v1/impact; cached on recalculation', () => {
    const gas = makeGas();
    const values = gas.customFunction('SCOPE3_IMPACT_TABLE', table);
    assert.equal(gas.takeRequests().length, 1);
    assert.equal(values.length, 101);
    assert.deepEqual(values[0], ['energy_wh', 'gco2e', 'water_ml']);
    values.slice(1).forEach((row, i) => {
      assertNumberRow(row, 3, `row ${i} ${JSON.stringify(table[i + 1])}`);
      assert.deepEqual(row, expected[i], `row ${i} ${JSON.stringify(table[i + 1])}`);
    });

    assert.deepEqual(gas.customFunction('SCOPE3_IMPACT_TABLE', table), values);
    assert.equal(gas.takeRequests().length, 0, 'the header comes from the cache too');
  });
});

describe('metric', () => {
  const lines = [['gpt-4o', 1000, 200], ['llama_31_8b', 3000, 100]];
  let truth;

  before(async () => {
    truth = await impactRows(
      server,
      key,
      lines.map((l) => ({ model_id: l[0], input_tokens: l[1], output_tokens: l[2] })),
    );
  });

  const call = (gas, metric) =>
    gas.customFunction(
      'SCOPE3_IMPACT',
      column(lines.map((l) => l[0])),
      column(lines.map((l) => l[1])),
      column(lines.map((l) => l[2])),
      undefined,
      undefined,
      undefined,
      metric,
    );

  test('one name gives one column', () => {
    const gas = makeGas();
    const gco2e = call(gas, 'gco2e');
    assert.deepEqual(gco2e, truth.map((row) => [defaultMetrics(row)[1]]));
    const water = call(gas, 'usage_water_ml');
    assert.deepEqual(water, truth.map((row) => [row.total_impact.usage_water_ml]));
  });

  test('a blank metric is the default three', () => {
    const gas = makeGas();
    assert.deepEqual(call(gas, ''), truth.map(defaultMetrics));
  });

  test('a comma-separated list gives those columns in that order', () => {
    const gas = makeGas();
    const values = gas.customFunction('SCOPE3_IMPACT_TABLE', [['model', 'input_tokens', 'output_tokens'], ...lines], 'water_ml, energy_wh');
    assert.deepEqual(values[0], ['water_ml', 'energy_wh']);
    assert.deepEqual(values.slice(1), truth.map((row) => [defaultMetrics(row)[2], defaultMetrics(row)[0]]));
  });

  test('every metric at once is as wide as freezeResults looks; "all" is the 19 physical ones', () => {
    const gas = makeGas();
    const header = ['model', 'input_tokens', 'output_tokens'];
    const widest = gas.customFunction('SCOPE3_IMPACT_TABLE', [header, ...lines], 'all, km_by_car, phone_charges, showers, energy_class');
    assert.equal(widest[0].length, vm.runInContext('SCOPE3_MAX_RESULT_COLUMNS_', gas.context));
    const values = gas.customFunction('SCOPE3_IMPACT_TABLE', [header, ...lines], 'all');
    const columns = values[0];
    const width = 19;
    assert.equal(columns.length, width, `metric "all" has ${columns.length} columns: ${columns.join(', ')}`);
    for (const name of ['energy_wh', 'gco2e', 'water_ml', 'usage_gco2e', 'embodied_gco2e', 'usage_water_ml', 'embodied_water_ml']) {
      assert.ok(columns.includes(name), `"all" lacks ${name}: ${columns.join(', ')}`);
    }
    values.slice(1).forEach((row, i) => {
      assertNumberRow(row, width, `line ${i}`);
      const at = (name) => row[columns.indexOf(name)];
      const t = truth[i].total_impact;
      assert.deepEqual([at('energy_wh'), at('gco2e'), at('water_ml')], defaultMetrics(truth[i]));
      assert.equal(at('usage_gco2e'), t.usage_emissions_gco2e);
      assert.equal(at('embodied_gco2e'), t.embodied_emissions_gco2e);
      assert.equal(at('usage_water_ml'), t.usage_water_ml);
      assert.equal(at('embodied_water_ml'), t.embodied_water_ml);
    });
  });

  test('an unknown metric throws an Error naming it', () => {
    const gas = makeGas();
    assert.throws(() => call(gas, 'carbon_footprint_kg'), (error) => {
      assert.match(error.message, /carbon_footprint_kg/);
      assert.match(error.message, /^Scope3: /);
      return true;
    });
  });

  test('inconsistent ranges go out whole and the server says why', () => {
    const gas = makeGas();
    assert.throws(
      () => gas.customFunction('SCOPE3_IMPACT', column(['gpt-4o', 'gpt-4o']), column([1, 2, 3])),
      { message: /^Scope3: .*\(HTTP 400\)$/ },
    );
    assert.throws(
      () => gas.customFunction('SCOPE3_IMPACT', [['gpt-4o', 'x'], ['gpt-4o', 'y']], 10),
      { message: /^Scope3: .*\(HTTP 400\)$/ },
    );
    assert.equal(gas.takeRequests().length, 2);
  });
});

describe('SCOPE3_COMPARE over a 5,000-line range', () => {
  const LINES = 5000;
  const next = random(20261207);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const models = [];
  const inputs = [];
  const outputs = [];
  const alternatives = [];
  for (let i = 0; i < LINES; i++) {
    models.push(pick(['gpt-4o', 'llama_31_8b', 'claude-3-5-sonnet', 'gemini-2.5-flash']));
    inputs.push(Math.floor(next() * 8000));
    outputs.push(1 + Math.floor(next() * 2000));
    alternatives.push(pick(['gpt-4o-mini', 'llama_31_70b', '']));
  }

  test('one request; each value is the difference of two SCOPE3_IMPACT ranges, and their ratio', () => {
    const gas = makeGas();
    const values = gas.customFunction('SCOPE3_COMPARE', column(models), column(inputs), column(outputs), column(alternatives), '', 'SE', 'gco2e');
    assert.equal(gas.takeRequests().length, 1, 'a 5,000-line comparison is one call');
    assert.equal(values.length, LINES);
    const mine = gas.customFunction('SCOPE3_IMPACT', column(models), column(inputs), column(outputs), undefined, undefined, undefined, 'gco2e');
    const chosen = alternatives.map((alt, i) => alt || models[i]);
    const theirs = gas.customFunction('SCOPE3_IMPACT', column(chosen), column(inputs), column(outputs), undefined, undefined, 'SE', 'gco2e');
    gas.takeRequests();
    values.forEach((row, i) => {
      assertNumberRow(row, 3, `line ${i}`);
      assert.deepEqual(row, [theirs[i][0], theirs[i][0] - mine[i][0], theirs[i][0] / mine[i][0]], `line ${i}`);
    });
    assert.deepEqual(gas.customFunction('SCOPE3_COMPARE', column(models), column(inputs), column(outputs), column(alternatives), '', 'SE', 'gco2e'), values);
    assert.equal(gas.takeRequests().length, 0, 'an unchanged comparison comes from the cache');
  });
});
