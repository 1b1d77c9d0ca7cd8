'use strict';
// gunicorn serving `server.app:create_app()` on a free loopback port with its own SQLite file, as in
// production; plus the few direct API calls tests use to compute expected values.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const { ROOT } = require('./appsScript');

const PYTHON = process.env.PYTHON || 'python';
const ADMIN_KEY = 's3ai_test-admin-key-0123456789abcdef';
const IMPACT_ROWS_PER_CALL = 1000;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts gunicorn and waits for GET /status to answer 200. */
async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scope3-apps-script-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite:///${path.join(dir, 'app.sqlite3')}`,
    ADMIN_API_KEY: ADMIN_KEY,
    RATE_LIMIT_PER_MINUTE: '1000000',
    LOG_LEVEL: 'WARNING',
  };
  const logPath = path.join(dir, 'gunicorn.log');
  const log = fs.openSync(logPath, 'w');
  const proc = childProcess.spawn(
    PYTHON,
    ['-m', 'gunicorn', '-b', `127.0.0.1:${port}`, '-w', '1', '--log-level', 'warning', 'server.app:create_app()'],
    { cwd: ROOT, env, stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  let exited = null;
  proc.on('exit', (code, signal) => {
    exited = { code, signal };
  });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      throw new Error(`gunicorn exited (${JSON.stringify(exited)}): ${fs.readFileSync(logPath, 'utf8').slice(-2000)}`);
    }
    try {
      const response = await fetch(`${url}/status`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`gunicorn did not answer /status in time: ${fs.readFileSync(logPath, 'utf8').slice(-2000)}`);
    }
    await sleep(100);
  }

  return {
    url,
    adminKey: ADMIN_KEY,
    /** A user API key made by the CLI against the same database (the key is the last line it prints). */
    createKey(name) {
      const result = childProcess.spawnSync(PYTHON, ['-m', 'server', 'create-key', name], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      });
      if (result.status !== 0) throw new Error(`create-key failed: ${result.stderr}`);
      const lines = result.stdout.trim().split('\n');
      return lines[lines.length - 1].trim();
    },
    async stop() {
      if (!exited) {
        const done = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await done;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function api(server, key, method, pathAndQuery, body) {
  const response = await fetch(server.url + pathAndQuery, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (response.status < 200 || response.status > 299) throw new Error(`${method} ${pathAndQuery}: HTTP ${response.status} ${text}`);
  return { json: JSON.parse(text), headers: response.headers };
}

/** POST /v1/impact in chunks of 1,000 rows; one response row per input row. */
async function impactRows(server, key, rows) {
  const out = [];
  for (let start = 0; start < rows.length; start += IMPACT_ROWS_PER_CALL) {
    const { json } = await api(server, key, 'POST', '/v1/impact', { rows: rows.slice(start, start + IMPACT_ROWS_PER_CALL) });
    out.push(...json.rows);
  }
  return out;
}

/** The default sheet metrics of one /v1/impact row: [energy_wh, gco2e, water_ml], summed in the contract's order. */
function defaultMetrics(row) {
  const t = row.total_impact;
  return [t.usage_energy_wh, t.usage_emissions_gco2e + t.embodied_emissions_gco2e, t.usage_water_ml + t.embodied_water_ml];
}

/** Every catalog model this key sees, through GET /model's pages of 100. */
async function listModels(server, key) {
  const models = [];
  for (let page = 1; ; page++) {
    const { json } = await api(server, key, 'GET', `/model?limit=100&page=${page}`);
    models.push(...json.models);
    if (json.models.length < 100) return models;
  }
}

module.exports = { startServer, api, impactRows, defaultMetrics, listModels, ADMIN_KEY };
