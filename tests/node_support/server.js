'use strict';
// gunicorn serving `server.app:create_app()` on a free loopback port with its own SQLite file, as in
// production, optionally with a batch job queue on Redis and its workers; plus the few direct API calls tests use
// to compute expected values.

const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const { ROOT, allowTestUrl } = require('./appsScript');

const PYTHON = process.env.PYTHON || 'python';
const ADMIN_KEY = 's3ai_test-admin-key-0123456789abcdef';
const IMPACT_ROWS_PER_CALL = 1000;
const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379/0';

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

/** Why REDIS_URL cannot serve as the job queue, or null when it answers PING (checked as the server connects). */
function redisProblem() {
  const script = 'import redis, sys\nredis.Redis.from_url(sys.argv[1], socket_connect_timeout=3).ping()\n';
  const result = childProcess.spawnSync(PYTHON, ['-c', script, REDIS_URL], { encoding: 'utf8' });
  if (result.status === 0) return null;
  const lines = `${result.stderr}${result.error || ''}`.trim().split('\n');
  return `Redis is not reachable at ${REDIS_URL} (${lines[lines.length - 1]})`;
}

/**
 * Starts gunicorn and waits for GET /status to answer 200. With `batchQueue`, the app gets a job queue on Redis
 * under a namespace of its own, and `startBatchWorker()` starts `python -m server batch-worker` beside it.
 */
async function startServer({ batchQueue = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scope3-apps-script-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const namespace = batchQueue ? `nodetest-${crypto.randomBytes(5).toString('hex')}` : null;
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite:///${path.join(dir, 'app.sqlite3')}`,
    ADMIN_API_KEY: ADMIN_KEY,
    RATE_LIMIT_PER_MINUTE: '1000000',
    LOG_LEVEL: 'WARNING',
  };
  // Without batchQueue the app has no job queue, whatever this shell's REDIS_URL says.
  delete env.REDIS_URL;
  if (namespace) Object.assign(env, { REDIS_URL, BATCH_QUEUE_NAMESPACE: namespace });
  const workers = [];
  const logPath = path.join(dir, 'gunicorn.log');
  const log = fs.openSync(logPath, 'w');
  // Two sync workers, as app.yaml runs: a client that opens a connection and never writes on it (an aborted
  // readiness probe left in a pool) holds one worker until gunicorn's timeout, not the whole server.
  const proc = childProcess.spawn(
    PYTHON,
    ['-m', 'gunicorn', '-b', `127.0.0.1:${port}`, '-w', '2', '--log-level', 'warning', 'server.app:create_app()'],
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

  allowTestUrl(url);
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
    /** `python -m server batch-worker` on the same database and queue; stop() ends it (server.stop() too). */
    startBatchWorker({ processes = 1 } = {}) {
      if (!namespace) throw new Error('startBatchWorker: start the server with {batchQueue: true}');
      const workerLogPath = path.join(dir, `worker-${workers.length + 1}.log`);
      const workerLog = fs.openSync(workerLogPath, 'w');
      // Its own process group: the command execs Dramatiq, which forks the worker processes.
      const worker = childProcess.spawn(PYTHON, ['-m', 'server', 'batch-worker', '--processes', String(processes)], {
        cwd: ROOT,
        env,
        stdio: ['ignore', workerLog, workerLog],
        detached: true,
      });
      fs.closeSync(workerLog);
      const state = { exited: null };
      worker.on('exit', (code, signal) => {
        state.exited = { code, signal };
      });
      const handle = {
        log: () => fs.readFileSync(workerLogPath, 'utf8'),
        exited: () => state.exited,
        async stop() {
          if (state.exited) return;
          const done = new Promise((resolve) => worker.once('exit', resolve));
          process.kill(-worker.pid, 'SIGTERM');
          const timer = setTimeout(() => process.kill(-worker.pid, 'SIGKILL'), 15_000);
          await done;
          clearTimeout(timer);
        },
      };
      workers.push(handle);
      return handle;
    },
    async stop() {
      await Promise.all(workers.map((worker) => worker.stop()));
      if (!exited) {
        const done = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await done;
        clearTimeout(timer);
      }
      if (namespace) clearQueue(namespace);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deletes the Redis keys of a test's queue namespace. */
function clearQueue(namespace) {
  const script = 'import redis, sys\nqueue = redis.Redis.from_url(sys.argv[1])\n' +
    'for key in queue.scan_iter(sys.argv[2] + ":*"):\n    queue.delete(key)\n';
  const result = childProcess.spawnSync(PYTHON, ['-c', script, REDIS_URL, namespace], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`clearing the queue ${namespace} failed: ${result.stderr}`);
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

module.exports = { startServer, redisProblem, api, impactRows, defaultMetrics, listModels, ADMIN_KEY, REDIS_URL };
