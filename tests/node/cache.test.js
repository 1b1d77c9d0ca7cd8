'use strict';
// The results cache under CacheService's documented limits (1,000 items, then the 900 farthest from expiry;
// 100 KB a value): a 10,000-line range, an edited line, a catalog change.

const assert = require('node:assert/strict');
const { after, before, describe, test } = require('node:test');

const { createAppsScript } = require('../node_support/appsScript');
const { api, startServer } = require('../node_support/server');

let server;
let key;

before(async () => {
  server = await startServer();
  key = server.createKey('apps-script-cache');
});

after(async () => {
  if (server) await server.stop();
});

const column = (values) => values.map((value) => [value]);
const LINES = 10000;
const BLOCK = 250;

/** 10,000 lines: a few models, distinct token counts. */
function tenThousandLines() {
  const models = ['gpt-4o', 'gpt-4o-mini', 'llama_31_8b', 'claude-3-5-sonnet'];
  return Array.from({ length: LINES }, (_, i) => ({
    model: models[i % models.length],
    input_tokens: 100 + i,
    output_tokens: 10 + (i % 700),
  }));
}

function callRange(gas, lines) {
  return gas.customFunction(
    'SCOPE3_IMPACT',
    column(lines.map((l) => l.model)),
    column(lines.map((l) => l.input_tokens)),
    column(lines.map((l) => l.output_tokens)),
  );
}

describe('a 10,000-line range in a cache of 1,000 items', () => {
  let lines;
  before(() => {
    lines = tenThousandLines();
  });

  test('takes 41 items (40 blocks and the catalog version); unchanged, it makes no call', () => {
    const gas = createAppsScript({ settings: { url: server.url, key } });
    const first = callRange(gas, lines);
    assert.equal(gas.takeRequests().length, 2);
    const cache = gas.caches.document;
    assert.equal(cache.size(), LINES / BLOCK + 1);
    assert.equal(cache.evicted, 0);
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(callRange(gas, lines), first);
      assert.equal(gas.takeRequests().length, 0, `recalculation ${round + 1} called the API`);
    }
  });

  test('ten such ranges in one document still fit: each recalculates without a call', () => {
    const gas = createAppsScript({ settings: { url: server.url, key } });
    const ranges = Array.from({ length: 10 }, (_, r) => lines.map((l) => ({ ...l, output_tokens: l.output_tokens + r })));
    ranges.forEach((range) => callRange(gas, range));
    gas.takeRequests();
    assert.equal(gas.caches.document.size(), 10 * (LINES / BLOCK) + 1);
    ranges.forEach((range, r) => {
      callRange(gas, range);
      assert.equal(gas.takeRequests().length, 0, `range ${r} called the API`);
    });
  });

  test('one edited line makes one call carrying only its block', () => {
    const gas = createAppsScript({ settings: { url: server.url, key } });
    const first = callRange(gas, lines);
    gas.takeRequests();
    const edited = lines.map((l, i) => (i === 7777 ? { ...l, output_tokens: l.output_tokens + 5 } : l));
    const values = callRange(gas, edited);
    const requests = gas.takeRequests();
    assert.equal(requests.length, 1);
    const sent = JSON.parse(requests[0].body).args;
    // Line 7777 is in the block of lines 7750-7999.
    assert.deepEqual(sent.input_tokens, column(lines.slice(7750, 8000).map((l) => l.input_tokens)));
    assert.deepEqual(sent.output_tokens, column(edited.slice(7750, 8000).map((l) => l.output_tokens)));
    values.forEach((row, i) => {
      if (i !== 7777) assert.deepEqual(row, first[i], `line ${i}`);
    });
    assert.ok(values[7777][0] > first[7777][0], 'more output tokens, more energy');
  });

  test('past the cap, the newest blocks are kept: the last range written recalculates without a call', () => {
    const gas = createAppsScript({ settings: { url: server.url, key } });
    const cache = gas.caches.document;
    // 990 items another part of the document wrote earlier, expiring sooner than our 6 hours.
    const filler = {};
    for (let i = 0; i < 990; i++) filler[`other:${i}`] = 'x';
    cache.putAll(filler, 3600);
    const first = callRange(gas, lines);
    gas.takeRequests();
    assert.ok(cache.evicted > 0, 'the cap was not reached');
    assert.ok(cache.size() <= 1000);
    assert.deepEqual(callRange(gas, lines), first);
    assert.equal(gas.takeRequests().length, 0);
  });
});

describe('a catalog change', () => {
  test('misses the cache: the next call asks for every block again, so a range never mixes two catalogs', async () => {
    const gas = createAppsScript({ settings: { url: server.url, key } });
    const lines = tenThousandLines().slice(0, 1000);
    const first = callRange(gas, lines);
    assert.equal(gas.takeRequests().length, 1);
    const before = gas.caches.document.get(
      [...gas.caches.document.entries.keys()].find((k) => k.startsWith('s3v:')),
    );

    // An administrator overrides gpt-4o's parameter count: a new catalog version, new numbers for gpt-4o lines.
    const saved = await api(server, server.adminKey, 'GET', '/model/gpt-4o');
    const params = saved.json.total_params_billions || saved.json.estimated_params_billions || 200;
    await api(server, server.adminKey, 'PUT', '/model/gpt-4o', { total_params_billions: params * 2 });

    // An unchanged range is served from the cache until something asks the server (any miss, or Refresh).
    assert.deepEqual(callRange(gas, lines), first);
    assert.equal(gas.takeRequests().length, 0);

    // One edited line: its block is asked for, the answer names the new catalog, and every other block is asked
    // for again in the same calculation.
    const edited = lines.map((l, i) => (i === 10 ? { ...l, input_tokens: l.input_tokens + 1 } : l));
    const values = callRange(gas, edited);
    const requests = gas.takeRequests();
    const sentLines = requests.reduce((n, r) => n + JSON.parse(r.body).args.model.length, 0);
    assert.equal(sentLines, 250 + 750, `${requests.length} requests carrying ${sentLines} lines`);
    const fresh = createAppsScript({ settings: { url: server.url, key } });
    assert.deepEqual(values, callRange(fresh, edited), 'every line from the new catalog');
    const changed = values.filter((row, i) => i !== 10 && row[0] !== first[i][0]).length;
    assert.ok(changed > 0, 'the override changed no line');
    const after = gas.caches.document.get([...gas.caches.document.entries.keys()].find((k) => k.startsWith('s3v:')));
    assert.notEqual(after, before);

    // Recalculating now makes no call again.
    assert.deepEqual(callRange(gas, edited), values);
    assert.equal(gas.takeRequests().length, 0);
  });
});
