'use strict';
// Runs every apps_script/*.gs file in one shared `vm` context, as Apps Script does, with stand-ins for the
// services they use. UrlFetchApp is real: each fetch/fetchAll blocks while a worker thread makes real HTTP
// requests, so the code under test talks to a real server and every request is counted.

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { MessageChannel, Worker, receiveMessageOnPort } = require('node:worker_threads');

const { createSpreadsheetApp } = require('./fakeSpreadsheet');
const { buildFiles, configSource, CONFIG_FILE } = require('../../scripts/build_addon');

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT_DIR = path.join(ROOT, 'apps_script');
const FETCH_WORKER = path.join(__dirname, 'urlFetchWorker.js');
const FETCH_TIMEOUT_MS = 120_000;

const CACHE_KEY_MAX_CHARS = 250;
const CACHE_VALUE_MAX_BYTES = 100 * 1024;
const CACHE_MAX_SECONDS = 21600;
// "A cache holds at most 1,000 items; past that it keeps the 900 farthest from expiry" (INTEGRATIONS.md, from
// developers.google.com/apps-script/reference/cache/cache).
const CACHE_MAX_ITEMS = 1000;
const CACHE_ITEMS_KEPT = 900;
const PROPERTY_VALUE_MAX_BYTES = 9 * 1024;
const PROPERTY_STORE_MAX_BYTES = 500 * 1024;
const URL_MAX_CHARS = 2048;
// The backend the harness builds the add-on for (`npm run build:addon -- <this>`): what a real deployment's
// manifest would list. Test servers listen on http://127.0.0.1, which no real build may list (UrlFetch runs on
// Google's servers); each one registers a test-only allowlist entry (allowTestUrl) added to the built manifest.
const HARNESS_BACKEND = 'https://scope3-backend.example/';
const testAllowlist = new Set();

/** Adds a test-only urlFetchWhitelist entry (the URL with a trailing "/") to every project created from now on. */
function allowTestUrl(url) {
  testAllowlist.add(url.replace(/\/*$/, '/'));
}

/** CacheService's cache: string values, limits enforced, expiry on a clock tests can move. */
class FakeCache {
  constructor(clock) {
    this.clock = clock;
    this.entries = new Map();
    this.evicted = 0;
    this.calls = { get: 0, getAll: 0, put: 0, putAll: 0, largestBatch: 0 };
  }

  checkKey(key) {
    if (typeof key !== 'string' || key.length === 0) throw new Error(`Invalid argument: key ${key}`);
    if (key.length > CACHE_KEY_MAX_CHARS) throw new Error(`Argument too large: key (${key.length} characters)`);
  }

  live(key) {
    this.checkKey(key);
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  store(key, value, seconds) {
    this.checkKey(key);
    if (typeof value !== 'string') throw new Error(`Invalid argument: value for ${key} is not a string`);
    if (Buffer.byteLength(value, 'utf8') > CACHE_VALUE_MAX_BYTES) throw new Error('Argument too large: value');
    if (!(seconds >= 1 && seconds <= CACHE_MAX_SECONDS)) throw new Error(`Invalid argument: expirationInSeconds ${seconds}`);
    this.entries.delete(key); // a rewritten key counts once, as the newest
    this.entries.set(key, { value, expiresAt: this.clock.now() + seconds * 1000 });
    if (this.entries.size > CACHE_MAX_ITEMS) this.evict();
  }

  /** Over the cap: expired items go, then all but the CACHE_ITEMS_KEPT farthest from expiry. */
  evict() {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    if (this.entries.size <= CACHE_MAX_ITEMS) return;
    // Latest expiry first; among equal expiries the later write wins (Map order is write order).
    const ranked = [...this.entries].map(([key, entry], order) => ({ key, entry, order }));
    ranked.sort((a, b) => b.entry.expiresAt - a.entry.expiresAt || b.order - a.order);
    this.evicted += ranked.length - CACHE_ITEMS_KEPT;
    const kept = new Set(ranked.slice(0, CACHE_ITEMS_KEPT).map(({ key }) => key));
    for (const key of [...this.entries.keys()]) if (!kept.has(key)) this.entries.delete(key); // write order stays
  }

  /** Test helper: how many items the cache holds now. */
  size() { return this.entries.size; }

  get(key) {
    this.calls.get++;
    return this.live(key);
  }

  getAll(keys) {
    this.calls.getAll++;
    if (!Array.isArray(keys)) throw new Error('Invalid argument: keys');
    this.calls.largestBatch = Math.max(this.calls.largestBatch, keys.length);
    const found = {};
    keys.forEach((key) => {
      const value = this.live(key);
      if (value !== null) found[key] = value;
    });
    return found;
  }

  put(key, value, seconds = 600) {
    this.calls.put++;
    this.store(key, value, seconds);
  }

  putAll(values, seconds = 600) {
    this.calls.putAll++;
    const keys = Object.keys(values);
    this.calls.largestBatch = Math.max(this.calls.largestBatch, keys.length);
    keys.forEach((key) => this.store(key, values[key], seconds));
  }

  remove(key) { this.entries.delete(key); }
  removeAll(keys) { keys.forEach((key) => this.entries.delete(key)); }
}

/** A PropertiesService store: string values, 9 KB per value, 500 KB in all. */
class FakeProperties {
  constructor() { this.values = {}; }

  getProperty(key) { return Object.prototype.hasOwnProperty.call(this.values, key) ? this.values[key] : null; }
  getProperties() { return { ...this.values }; }
  getKeys() { return Object.keys(this.values); }

  setProperty(key, value) {
    const text = String(value);
    if (Buffer.byteLength(text, 'utf8') > PROPERTY_VALUE_MAX_BYTES) throw new Error('Argument too large: value');
    const next = { ...this.values, [key]: text };
    if (Buffer.byteLength(JSON.stringify(next), 'utf8') > PROPERTY_STORE_MAX_BYTES) {
      throw new Error('You have exceeded the property storage quota.');
    }
    this.values = next;
    return this;
  }

  setProperties(properties, deleteAllOthers) {
    if (deleteAllOthers) this.values = {};
    Object.keys(properties).forEach((key) => this.setProperty(key, properties[key]));
    return this;
  }

  deleteProperty(key) { delete this.values[key]; return this; }
  deleteAllProperties() { this.values = {}; return this; }
}

const DIGESTS = { MD5: 'md5', SHA_1: 'sha1', SHA_256: 'sha256', SHA_384: 'sha384', SHA_512: 'sha512' };

function toBuffer(data, charset) {
  if (typeof data === 'string') {
    if (charset !== undefined && charset !== 'UTF_8' && charset !== 'US_ASCII') {
      throw new Error(`fake Utilities: charset ${charset} is not modelled`);
    }
    return Buffer.from(data, 'utf8');
  }
  if (Array.isArray(data)) return Buffer.from(data.map((b) => b & 0xff));
  throw new Error(`Invalid argument: ${typeof data}`);
}

// Apps Script's byte arrays are Java bytes: signed, -128..127.
const signedBytes = (buffer) => Array.from(buffer, (b) => (b > 127 ? b - 256 : b));

/** Utilities.parseCsv: RFC 4180 fields ("" for a quote inside quotes, line breaks kept inside quotes), as strings. */
function parseCsv(csv, delimiter = ',') {
  if (typeof csv !== 'string') throw new Error(`Invalid argument: csv ${typeof csv}`);
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const ch = csv[i];
    if (quoted) {
      if (ch === '"' && csv[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === delimiter) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && csv[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += ch;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const utilities = {
  DigestAlgorithm: Object.fromEntries(Object.keys(DIGESTS).map((name) => [name, name])),
  Charset: { UTF_8: 'UTF_8', US_ASCII: 'US_ASCII' },
  computeDigest(algorithm, value, charset) {
    if (!DIGESTS[algorithm]) throw new Error(`Invalid argument: algorithm ${algorithm}`);
    return signedBytes(crypto.createHash(DIGESTS[algorithm]).update(toBuffer(value, charset)).digest());
  },
  base64Encode(data, charset) { return toBuffer(data, charset).toString('base64'); },
  // Apps Script's web-safe alphabet keeps the '=' padding.
  base64EncodeWebSafe(data, charset) {
    return toBuffer(data, charset).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  },
  base64Decode(text) { return signedBytes(Buffer.from(text, 'base64')); },
  parseCsv,
  // Blocks for real, as it does in Apps Script, where the time counts against the call's 30 s; at most 300 s.
  sleep(milliseconds) {
    if (!(milliseconds >= 0 && milliseconds <= 300000)) throw new Error(`Invalid argument: milliseconds ${milliseconds}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
  },
};

/** One HTTPResponse, as UrlFetchApp returns it. */
function httpResponse(result) {
  return {
    getResponseCode: () => result.status,
    getContentText: () => result.body,
    getContent: () => signedBytes(Buffer.from(result.body, 'utf8')),
    getHeaders: () => ({ ...result.headers }),
    getAllHeaders: () => ({ ...result.headers }),
  };
}

function normalizeRequest(url, params = {}) {
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) throw new Error(`Invalid argument: url ${url}`);
  if (url.length > URL_MAX_CHARS) throw new Error('Limit Exceeded: URLFetch URL Length.');
  const method = String(params.method || 'get').toUpperCase();
  const headers = { ...(params.headers || {}) };
  let body;
  if (params.payload !== undefined && method !== 'GET') {
    if (typeof params.payload !== 'string') throw new Error('fake UrlFetchApp: only string payloads are modelled');
    body = params.payload;
    headers['Content-Type'] = params.contentType || 'application/x-www-form-urlencoded';
  }
  return {
    url,
    method,
    headers,
    body,
    muteHttpExceptions: Boolean(params.muteHttpExceptions),
    followRedirects: params.followRedirects !== false,
  };
}

let fetcher = null;
// Milliseconds spent waiting for HTTP answers, summed: what the script's own time excludes.
const fetchClock = { waitedMs: 0 };

/** Sends requests with real HTTP and blocks until all have answered: the worker fetches, this thread waits. */
function fetchBlocking(requests) {
  if (fetcher === null) {
    const { port1, port2 } = new MessageChannel();
    const flag = new SharedArrayBuffer(4);
    const worker = new Worker(FETCH_WORKER, { workerData: { port: port2, flag }, transferList: [port2] });
    worker.unref();
    port1.unref();
    fetcher = { port: port1, signal: new Int32Array(flag) };
  }
  Atomics.store(fetcher.signal, 0, 0);
  const started = performance.now();
  fetcher.port.postMessage(requests);
  const waited = Atomics.wait(fetcher.signal, 0, 0, FETCH_TIMEOUT_MS);
  fetchClock.waitedMs += performance.now() - started;
  if (waited === 'timed-out') {
    throw new Error('fake UrlFetchApp: no answer within 120 s');
  }
  const reply = receiveMessageOnPort(fetcher.port).message;
  if (reply.failure) throw new Error(`fake UrlFetchApp: ${reply.failure}`);
  return reply.responses;
}

/**
 * UrlFetchApp with real HTTP; `log` records every request sent (one entry per HTTP request). `allowlist` is the
 * manifest's urlFetchWhitelist: once present, UrlFetch refuses every URL not under one of its prefixes
 * (INTEGRATIONS.md; developers.google.com/apps-script/manifest/allowlist-url), before sending anything.
 */
function createUrlFetchApp(log, allowlist) {
  function fetchAll(requests) {
    if (!Array.isArray(requests)) throw new Error('Invalid argument: requests');
    const normalized = requests.map((request) => normalizeRequest(request.url, request));
    if (allowlist) {
      for (const request of normalized) {
        if (!allowlist.some((prefix) => request.url.toLowerCase().startsWith(prefix.toLowerCase()))) {
          log.refused.push(request);
          throw new Error(`Exception: The URL ${request.url} is not allowed by the urlFetchWhitelist in the manifest.`);
        }
      }
    }
    log.batches.push(normalized.length);
    normalized.forEach((request) => log.requests.push(request));
    if (normalized.length === 0) return [];
    return fetchBlocking(normalized).map((result, i) => {
      const request = normalized[i];
      if (result.error) throw new Error(`Address unavailable: ${request.url}`);
      if (result.status >= 400 && !request.muteHttpExceptions) {
        throw new Error(`Request failed for ${request.url} returned code ${result.status}. Truncated server response: ${
          result.body.slice(0, 100)} (use muteHttpExceptions option to examine full response)`);
      }
      return httpResponse(result);
    });
  }
  return {
    fetch: (url, params) => fetchAll([{ ...(params || {}), url }])[0],
    fetchAll,
  };
}

function createHtmlService(mode, files) {
  function output(content) {
    const state = { content, width: null, height: null, title: '' };
    const html = {
      getContent: () => state.content,
      setWidth(width) { state.width = width; return html; },
      setHeight(height) { state.height = height; return html; },
      setTitle(title) { state.title = title; return html; },
      getWidth: () => state.width,
      getHeight: () => state.height,
      getTitle: () => state.title,
    };
    return html;
  }
  return {
    createHtmlOutput: (content = '') => output(String(content)),
    createHtmlOutputFromFile(name) {
      if (mode.customFunction) throw new Error('You do not have permission to call HtmlService.createHtmlOutputFromFile');
      // Apps Script names files without their extension: 'SettingsDialog', not 'SettingsDialog.html'.
      const file = `${name}.html`;
      if (!Object.prototype.hasOwnProperty.call(files, file)) throw new Error(`No HTML file named ${name} was found.`);
      return output(files[file]);
    },
  };
}

/** The .gs files in the order the Apps Script editor lists them (by name); the order must not matter. */
function scriptFiles() {
  return fs.readdirSync(SCRIPT_DIR).filter((name) => name.endsWith('.gs')).sort();
}

/**
 * The project as `npm run build:addon -- <backend>` builds it, plus the test-only allowlist entries (the test
 * servers', and `allow`) in both the manifest and the generated BuildConfig.gs.
 */
function builtProject({ backend = HARNESS_BACKEND, allow = [] } = {}) {
  const { files, manifest } = buildFiles({ url: backend });
  const extra = [...testAllowlist, ...allow.map((url) => url.replace(/\/*$/, '/'))];
  manifest.urlFetchWhitelist = [...manifest.urlFetchWhitelist, ...extra];
  files[CONFIG_FILE] = configSource(manifest.urlFetchWhitelist);
  files['appsscript.json'] = JSON.stringify(manifest, null, 2);
  return { files, manifest };
}

/**
 * A fresh Apps Script project: all .gs files of the built project loaded into one context with fresh services.
 * `settings` ({url, key}) pre-fills the document properties the Settings dialog would write; `backend` is the URL
 * the add-on is built for, `allow` more test-only allowlist entries.
 */
function createAppsScript({ settings, backend, allow } = {}) {
  const project = builtProject({ backend, allow });
  const mode = { customFunction: false };
  const clock = { offsetMs: 0, now() { return Date.now() + this.offsetMs; } };
  const http = { requests: [], batches: [], refused: [] };
  // `user` is whoever runs a menu action or the dialog; inside a custom function getUserProperties() reads the
  // spreadsheet owner's store instead ("owner"), whoever is viewing (INTEGRATIONS.md).
  const stores = {
    document: new FakeProperties(),
    user: new FakeProperties(),
    owner: new FakeProperties(),
    script: new FakeProperties(),
  };
  const timings = [];
  const counted = countCalls(utilities);
  const caches = { document: new FakeCache(clock), user: new FakeCache(clock), script: new FakeCache(clock) };
  const { app: spreadsheetApp, spreadsheet, ui } = createSpreadsheetApp(mode);
  const logs = [];

  const context = vm.createContext({
    SpreadsheetApp: spreadsheetApp,
    PropertiesService: {
      getDocumentProperties: () => stores.document,
      getUserProperties: () => (mode.customFunction ? stores.owner : stores.user),
      getScriptProperties: () => stores.script,
    },
    CacheService: {
      getDocumentCache: () => caches.document,
      getUserCache: () => caches.user,
      getScriptCache: () => caches.script,
    },
    Utilities: counted.service,
    UrlFetchApp: createUrlFetchApp(http, project.manifest.urlFetchWhitelist),
    HtmlService: createHtmlService(mode, project.files),
    Logger: { log: (...args) => { logs.push(args.map(String).join(' ')); } },
    console: {
      log: (...args) => logs.push(args.map(String).join(' ')),
      info: (...args) => logs.push(args.map(String).join(' ')),
      warn: (...args) => logs.push(args.map(String).join(' ')),
      error: (...args) => logs.push(args.map(String).join(' ')),
    },
  });
  for (const name of Object.keys(project.files).filter((file) => file.endsWith('.gs')).sort()) {
    vm.runInContext(project.files[name], context, { filename: name });
  }
  if (settings) {
    stores.document.setProperties({ SCOPE3_API_URL: settings.url, SCOPE3_API_KEY: settings.key });
  }

  return {
    context,
    manifest: project.manifest,
    files: project.files,
    http,
    stores,
    caches,
    clock,
    spreadsheet,
    ui,
    logs,
    /**
     * One entry per custom-function call: `wallMs` (what a call's 30 s limit counts), `fetchMs` (waiting for HTTP
     * answers, which depends on the server), `scriptMs` (the difference: the script's own work), and how many
     * Utilities calls it made.
     */
    timings,
    utilityCalls: counted.calls,
    /** Calls a global function as a cell would, checks what Sheets would get, and hands it back as plain JSON. */
    customFunction(name, ...args) {
      mode.customFunction = true;
      const started = performance.now();
      const waitedBefore = fetchClock.waitedMs;
      const utilitiesBefore = counted.total();
      try {
        const result = context[name](...args);
        checkSheetsResult(name, result);
        return plain(result);
      } finally {
        mode.customFunction = false;
        const wallMs = performance.now() - started;
        const fetchMs = fetchClock.waitedMs - waitedBefore;
        timings.push({ name, wallMs, fetchMs, scriptMs: wallMs - fetchMs, utilities: counted.total() - utilitiesBefore });
      }
    },
    /** Calls a global function as a menu item or google.script.run would. */
    run(name, ...args) {
      return plain(context[name](...args));
    },
    /** HTTP requests made since the last call. */
    takeRequests() {
      const taken = http.requests.splice(0);
      http.batches.splice(0);
      return taken;
    },
  };
}

/**
 * What a custom function may hand back to Sheets: a value, or a rectangular 2-D array of values, where a value is
 * a finite number, a string, a boolean or a Date. Sheets shows anything else (undefined, null, NaN, Infinity, an
 * object, a ragged array) as an error or a wrong cell, so the harness refuses it.
 */
class SheetsResultError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SheetsResultError';
  }
}

function checkSheetsResult(name, result) {
  const isValue = (value) => (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string' ||
    typeof value === 'boolean' || Object.prototype.toString.call(value) === '[object Date]';
  const where = (r, c) => `${name} result row ${r + 1}, column ${c + 1}`;
  if (!Array.isArray(result)) {
    if (!isValue(result)) throw new SheetsResultError(`${name} returned ${String(result)}, which Sheets cannot show in a cell`);
    return;
  }
  if (result.length === 0) throw new SheetsResultError(`${name} returned an empty array, which Sheets shows as an error`);
  const width = Array.isArray(result[0]) ? result[0].length : -1;
  result.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== width || width === 0) {
      throw new SheetsResultError(`${name} returned a ragged or 1-D array at row ${r + 1}: Sheets needs a rectangle`);
    }
    row.forEach((value, c) => {
      if (!isValue(value)) throw new SheetsResultError(`${where(r, c)} is ${String(value)}, which Sheets cannot show`);
    });
  });
}

/** A copy of a service object whose methods count their calls, by name. */
function countCalls(service) {
  const calls = {};
  const copy = {};
  for (const [name, member] of Object.entries(service)) {
    if (typeof member !== 'function') {
      copy[name] = member;
      continue;
    }
    calls[name] = 0;
    copy[name] = (...args) => {
      calls[name]++;
      return member(...args);
    };
  }
  return { service: copy, calls, total: () => Object.values(calls).reduce((a, b) => a + b, 0) };
}

/** Values made inside the vm realm compare badly with assert.deepStrictEqual: copy them out through JSON. */
function plain(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

module.exports = { createAppsScript, builtProject, allowTestUrl, scriptFiles, plain, ROOT, SCRIPT_DIR, HARNESS_BACKEND };
