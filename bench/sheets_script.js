'use strict';
// The Apps Script side of a 10,000-line =SCOPE3_IMPACT(...) range: the script's own time per call (wall time
// minus the time spent waiting for HTTP answers), its Utilities calls, its HTTP requests and the cache items it
// holds, measured in the Node harness (the real .gs files, CacheService capped at 1,000 items) against gunicorn.
//
// Three calls of interest: cold (empty cache: every block asked for), warm (unchanged: every block from the
// cache) and one edited line (one block asked for). Apps Script allows a custom function 30 s of wall time.
// Node's V8 is faster than Apps Script's runtime; read the figures as a floor, not a promise.
//
//     node bench/sheets_script.js [--lines 10000] [--rounds 5]

const { createAppsScript } = require('../tests/node_support/appsScript');
const { startServer } = require('../tests/node_support/server');
const { random } = require('../tests/node_support/random');

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const LINES = option('lines', 10000);
const ROUNDS = option('rounds', 5);
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'llama_31_8b', 'llama_31_70b', 'claude-3-5-sonnet', 'mistral-large-2411'];
const HOSTINGS = ['', '', 'aws-bedrock', 'azure-openai', 'aws:p4d.24xlarge'];
const LOCATIONS = ['', 'FR', 'US-NY', 'us-east-1', 'DE'];

function usage(seed) {
  const next = random(seed);
  const pick = (list) => list[Math.floor(next() * list.length)];
  return Array.from({ length: LINES }, (_, i) => (i % 100 === 99
    ? { model: '', input_tokens: '', output_tokens: '', hosting: '', location: '' }
    : {
      model: pick(MODELS),
      input_tokens: 10 + Math.floor(next() * 8000),
      output_tokens: Math.floor(next() * 2000),
      hosting: pick(HOSTINGS),
      location: pick(LOCATIONS),
    }));
}

const column = (lines, name) => lines.map((line) => [line[name]]);

function call(gas, lines) {
  gas.customFunction(
    'SCOPE3_IMPACT',
    column(lines, 'model'),
    column(lines, 'input_tokens'),
    column(lines, 'output_tokens'),
    'text-generation',
    column(lines, 'hosting'),
    column(lines, 'location'),
  );
  const timing = gas.timings[gas.timings.length - 1];
  return { ...timing, requests: gas.takeRequests().length, items: gas.caches.document.size() };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main() {
  const server = await startServer();
  try {
    const key = server.createKey('bench-sheets-script');
    const results = { cold: [], warm: [], edited: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const lines = usage(1000 + round);
      const gas = createAppsScript({ settings: { url: server.url, key } });
      results.cold.push(call(gas, lines));
      results.warm.push(call(gas, lines));
      const edited = lines.map((line, i) => (i === 4321 ? { ...line, output_tokens: Number(line.output_tokens || 0) + 1 } : line));
      results.edited.push(call(gas, edited));
    }
    console.log(`SCOPE3_IMPACT over ${LINES} lines, ${ROUNDS} rounds, medians (Node harness, gunicorn with 2 workers)`);
    console.log('call    script ms  HTTP wait ms  wall ms  Utilities calls  HTTP requests  cache items');
    for (const [name, rows] of Object.entries(results)) {
      const m = (field) => median(rows.map((row) => row[field]));
      console.log(
        `${name.padEnd(7)} ${m('scriptMs').toFixed(0).padStart(9)}  ${m('fetchMs').toFixed(0).padStart(12)}  ` +
        `${m('wallMs').toFixed(0).padStart(7)}  ${String(m('utilities')).padStart(15)}  ${String(m('requests')).padStart(13)}  ` +
        `${String(m('items')).padStart(11)}`,
      );
    }
    const worst = Math.max(...Object.values(results).flat().map((row) => row.scriptMs));
    console.log(`slowest script time of any call: ${worst.toFixed(0)} ms (limit of a custom function: 30,000 ms wall)`);
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
