'use strict';
// The Node stand-in for Apps Script keeps Google's documented limits (INTEGRATIONS.md): CacheService's cap and
// eviction, what Sheets accepts as a custom function's result, owner-only user properties, the script's own time.

const assert = require('node:assert/strict');
const { describe, test } = require('node:test');
const vm = require('node:vm');

const { createAppsScript } = require('../node_support/appsScript');

describe('the harness cache', () => {
  test('holds at most 1,000 items, then keeps the 900 farthest from expiry', () => {
    const gas = createAppsScript();
    const cache = gas.caches.document;
    for (let i = 0; i < 600; i++) cache.put(`soon:${i}`, 'v', 60);
    for (let i = 0; i < 400; i++) cache.put(`late:${i}`, 'v', 21600);
    assert.equal(cache.size(), 1000);
    cache.put('newest', 'v', 21600);
    assert.equal(cache.size(), 900);
    assert.equal(cache.evicted, 101);
    assert.equal(cache.get('newest'), 'v');
    assert.equal(cache.get('late:0'), 'v');
    assert.equal(cache.get('soon:0'), null, 'the items nearest expiry go first');
    assert.equal(cache.get('soon:599'), 'v');
  });

  test('refuses keys over 250 characters and values over 100 KB', () => {
    const cache = createAppsScript().caches.document;
    assert.throws(() => cache.put('k'.repeat(251), 'v', 60), /key/);
    assert.throws(() => cache.put('k', 'é'.repeat(51300), 60), /too large/);
    cache.put('k'.repeat(250), 'v'.repeat(100 * 1024), 60);
  });
});

describe('what a custom function may return', () => {
  const returning = (source) => {
    const gas = createAppsScript();
    vm.runInContext(`function PROBE() { return ${source}; }`, gas.context);
    return () => gas.customFunction('PROBE');
  };

  for (const [what, source] of [
    ['undefined', 'undefined'],
    ['null', 'null'],
    ['NaN', 'NaN'],
    ['Infinity', '1 / 0'],
    ['an object', '({a: 1})'],
    ['an empty array', '[]'],
    ['a 1-D array', '[1, 2]'],
    ['a ragged array', '[[1, 2], [3]]'],
    ['null in a row', '[[1, null]]'],
    ['NaN in a row', '[[1], [NaN]]'],
  ]) {
    test(`refuses ${what}`, () => {
      assert.throws(returning(source), { name: 'SheetsResultError' });
    });
  }

  test('accepts numbers, text, booleans, dates and blanks, alone or in a rectangle', () => {
    assert.equal(returning('3')(), 3);
    assert.equal(returning("''")(), '');
    assert.deepEqual(returning("[[1, 'a'], [true, ''], [new Date(0), -2.5]]")(), [[1, 'a'], [true, ''], ['1970-01-01T00:00:00.000Z', -2.5]]);
  });
});

test("inside a custom function getUserProperties() is the spreadsheet owner's, whoever is viewing", () => {
  const gas = createAppsScript();
  vm.runInContext("function PROBE() { return PropertiesService.getUserProperties().getProperty('who') || ''; }", gas.context);
  gas.stores.user.setProperty('who', 'the viewer');
  gas.stores.owner.setProperty('who', 'the owner');
  assert.equal(gas.customFunction('PROBE'), 'the owner');
  assert.equal(gas.run('PROBE'), 'the viewer', 'a menu action runs as whoever clicked it');
});

test("each custom-function call's time is split into waiting for HTTP and the script's own work", () => {
  const gas = createAppsScript();
  vm.runInContext(
    "function PROBE() { var s = ''; for (var i = 0; i < 2000; i++) s = Utilities.base64Encode(s.slice(0, 50) + i); return s.length; }",
    gas.context,
  );
  gas.customFunction('PROBE');
  const [timing] = gas.timings;
  assert.equal(timing.name, 'PROBE');
  assert.equal(timing.utilities, 2000);
  assert.equal(timing.fetchMs, 0);
  assert.ok(timing.scriptMs > 0 && timing.scriptMs === timing.wallMs, JSON.stringify(timing));
  assert.equal(gas.utilityCalls.base64Encode, 2000);
});
