/**
 * Talks to the backend's POST /v1/sheets/impact: a whole range per HTTP call, results cached per block of lines.
 *
 * Each cell that calls a custom function is one execution with a 30 s limit, and URL Fetch is capped per day,
 * so a range goes out as at most one request per SCOPE3_LINE_CHUNK_ lines, all in one fetchAll. CacheService
 * keeps at most 1,000 items (then the 900 farthest from expiry), so results are cached per block of
 * SCOPE3_BLOCK_LINES_ lines, not per line: a 10,000-line range takes 40 items (and one for the catalog version),
 * recalculating it unchanged makes no HTTP call, and one edited line re-sends only its block. Every key holds the server's catalog version
 * (its Scope3-Catalog-Version header), so a range never mixes numbers from two catalogs.
 */

const SCOPE3_LINE_CHUNK_ = 5000;
// The server refuses more lines per call; such calls go out as they are so that its message is shown.
const SCOPE3_MAX_LINES_ = 10000;
// Lines per cache entry: 250 rows of all 19 metrics are ~85 KB of JSON, under CacheService's 100 KB per value.
const SCOPE3_BLOCK_LINES_ = 250;
const SCOPE3_CACHE_VALUE_MAX_BYTES_ = 100 * 1024;
// CacheService's longest expiry (6 h).
const SCOPE3_CACHE_SECONDS_ = 21600;
// Keys per getAll/putAll call.
const SCOPE3_CACHE_BATCH_ = 500;
const SCOPE3_CATALOG_VERSION_HEADER_ = 'Scope3-Catalog-Version';
// A 503 (the backend's database or queue briefly away) is tried once more after its Retry-After, waiting at most
// this long: the wait counts against the custom function's 30 s.
const SCOPE3_RETRY_MAX_WAIT_S_ = 10;
// A dropped connection is tried once more after this long (another instance answers; assumption, no Retry-After).
const SCOPE3_RECONNECT_WAIT_MS_ = 500;
const SCOPE3_IMPACT_ARGS_ = ['model', 'input_tokens', 'output_tokens', 'task', 'hosting', 'location'];
const SCOPE3_COMPARE_ARGS_ = ['model', 'input_tokens', 'output_tokens', 'alt_model', 'alt_hosting', 'alt_location'];

/** The argument names of a custom function that takes its arguments by position (not a table). */
function argumentNames_(fn) {
  return fn === 'SCOPE3_COMPARE' ? SCOPE3_COMPARE_ARGS_ : SCOPE3_IMPACT_ARGS_;
}

/**
 * Runs one custom-function call through the cache and the sheets endpoint.
 *
 * @param {{fn: string, metric: *, args?: Object, table?: Array<Array<*>>}} call
 * @return {{columns: (Array<string>|null), values: Array<Array<*>>}}
 */
function runSheetsCall_(call) {
  const settings = requireSettings_();
  const metric = normalizeMetric_(call.metric);
  const plan = call.fn === 'SCOPE3_IMPACT_TABLE' ? planTable_(call.table) : planArgs_(call.args, call.fn);
  if (plan === null) {
    // Inconsistent or oversized input: the server's 400 explains it better than we could.
    return postAll_(settings, [rawBody_(call, metric)])[0];
  }

  const cache = scope3Cache_();
  const blocks = [];
  for (let start = 0; start < plan.lines; start += SCOPE3_BLOCK_LINES_) {
    const end = Math.min(start + SCOPE3_BLOCK_LINES_, plan.lines);
    blocks.push({start: start, end: end, content: JSON.stringify(plan.blockValues(start, end)), columns: null, rows: null});
  }
  const context = JSON.stringify([call.fn, metric, settings.url, sha256WebSafe_(settings.key), plan.header]);
  const versionKey = catalogVersionKey_(settings.url);
  let version = cache.get(versionKey);
  if (version !== null) lookUpBlocks_(cache, blocks, context, version);

  // When the answers come from another catalog version than the cached blocks, the blocks that were hits are
  // asked for again, so that every row of a range comes from one catalog.
  for (let round = 0; ; round++) {
    const missing = blocks.filter(function (block) {
      return block.rows === null;
    });
    if (missing.length === 0) break;
    if (round === 2) throw new Error('Scope3: the catalog changed during this calculation; recalculate');
    const answered = fetchBlocks_(settings, plan, metric, missing);
    if (answered === null) {
      // The answers disagree: the catalog changed between two of them. Ask again for everything.
      blocks.forEach(function (block) {
        block.rows = null;
      });
      continue;
    }
    if (answered !== version) {
      blocks.forEach(function (block) {
        if (missing.indexOf(block) < 0) block.rows = null;
      });
      version = answered;
    }
    storeBlocks_(cache, missing, context, version, versionKey);
  }
  // A table's header row comes with every block.
  const values = [];
  blocks.forEach(function (block) {
    Array.prototype.push.apply(values, block.rows);
  });
  return {columns: blocks.length ? blocks[0].columns : null, values: values};
}

/** The document's cache, or the script's outside a document (keys hold the URL and the key's hash). */
function scope3Cache_() {
  return CacheService.getDocumentCache() || CacheService.getScriptCache();
}

/** Where the last catalog version seen from a backend is kept. */
function catalogVersionKey_(url) {
  return 's3v:' + sha256WebSafe_(url);
}

/**
 * Asks the backend which catalog it serves now (GET /model?limit=1, answered with Scope3-Catalog-Version) and
 * keeps that as the latest version, so that the next calculation misses every block cached under an older one.
 * Returns the version, or null when the server could not say.
 */
function refreshCatalogVersion_() {
  const response = fetchApi_('/model?limit=1', {method: 'get'});
  readJson_(response);
  const version = headerValue_(response.getHeaders(), SCOPE3_CATALOG_VERSION_HEADER_);
  if (version === null) return null;
  scope3Cache_().put(catalogVersionKey_(requireSettings_().url), version, SCOPE3_CACHE_SECONDS_);
  return version;
}

/** The cache key of a block's results at a catalog version. */
function blockKey_(context, version, block) {
  return 's3b:' + sha256WebSafe_(context + '\n' + version + '\n' + block.content);
}

/** Fills the rows (and columns) of each block cached at this catalog version. */
function lookUpBlocks_(cache, blocks, context, version) {
  const keys = blocks.map(function (block) {
    return blockKey_(context, version, block);
  });
  const hits = cacheGetAll_(cache, uniqueStrings_(keys));
  blocks.forEach(function (block, i) {
    const hit = hits[keys[i]];
    if (hit === undefined || hit === null) return;
    const entry = JSON.parse(hit);
    block.columns = entry.c;
    block.rows = entry.v;
  });
}

/**
 * Asks the server for the lines of these blocks: identical lines once, in requests of at most SCOPE3_LINE_CHUNK_
 * lines, all in one fetchAll. Fills each block's rows; returns the catalog version the answers came from (null
 * when the server sends none, or the answers disagree).
 */
function fetchBlocks_(settings, plan, metric, blocks) {
  const asked = {};
  const lines = [];
  const slot = [];
  blocks.forEach(function (block) {
    for (let line = block.start; line < block.end; line++) {
      const text = JSON.stringify(plan.lineValues(line));
      if (!(text in asked)) {
        asked[text] = lines.length;
        lines.push(line);
      }
      slot.push(asked[text]);
    }
  });
  const chunks = [];
  for (let start = 0; start < lines.length; start += SCOPE3_LINE_CHUNK_) {
    chunks.push(lines.slice(start, start + SCOPE3_LINE_CHUNK_));
  }
  const answers = postAll_(settings, chunks.map(function (chunk) {
    return plan.body(chunk, metric);
  }));
  /** @type {Array<Array<*>>} */
  const rows = [];
  let version = answers.length ? answers[0].version : null;
  answers.forEach(function (answer, c) {
    if (!Array.isArray(answer.values) || answer.values.length !== chunks[c].length) {
      throw new Error('Scope3: the server answered ' + (answer.values ? answer.values.length : 'no') +
        ' rows for ' + chunks[c].length + ' lines');
    }
    if (answer.version !== version) version = null;
    Array.prototype.push.apply(rows, answer.values);
  });
  let next = 0;
  blocks.forEach(function (block) {
    block.columns = answers[0].columns;
    block.rows = [];
    for (let line = block.start; line < block.end; line++) block.rows.push(rows[slot[next++]]);
  });
  return version;
}

/** Caches these blocks under this catalog version, and the version as the backend's latest. */
function storeBlocks_(cache, blocks, context, version, versionKey) {
  const entries = {};
  blocks.forEach(function (block) {
    const text = JSON.stringify({c: block.columns, v: block.rows});
    // A block too large for one item (long error texts on every line) is not cached: it is asked for again.
    if (utf8Length_(text) <= SCOPE3_CACHE_VALUE_MAX_BYTES_) entries[blockKey_(context, version, block)] = text;
  });
  entries[versionKey] = version;
  cachePutAll_(cache, entries);
}

/** UTF-8 bytes of a string, as CacheService counts a value. */
function utf8Length_(text) {
  if (text.length * 3 <= SCOPE3_CACHE_VALUE_MAX_BYTES_) return text.length; // fits whatever its characters
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * How the arguments of SCOPE3_IMPACT or SCOPE3_COMPARE (fn) split into lines, or null when they are inconsistent
 * (a range wider than one column, ranges of different heights, too many lines).
 */
function planArgs_(args, fn) {
  const names = argumentNames_(fn).filter(function (name) {
    return args[name] !== undefined;
  });
  const heights = [];
  for (let n = 0; n < names.length; n++) {
    const value = args[names[n]];
    if (!Array.isArray(value)) continue;
    const oneColumn = value.every(function (row) {
      return Array.isArray(row) && row.length === 1;
    });
    if (!oneColumn) return null;
    heights.push(value.length);
  }
  const lines = heights.length ? heights[0] : 1;
  const consistent = heights.every(function (h) {
    return h === lines;
  });
  if (!consistent || lines < 1 || lines > SCOPE3_MAX_LINES_) return null;

  function at(name, line) {
    const value = args[name];
    return Array.isArray(value) ? value[line][0] : value;
  }
  return {
    lines: lines,
    header: null,
    blockValues: function (start, end) {
      return names.map(function (name) {
        const value = args[name];
        return [name, Array.isArray(value) ? value.slice(start, end).map(function (row) {
          return row[0];
        }) : value];
      });
    },
    lineValues: function (line) {
      return names.map(function (name) {
        return [name, at(name, line)];
      });
    },
    body: function (lineNumbers, metric) {
      const cut = {};
      names.forEach(function (name) {
        cut[name] = Array.isArray(args[name])
          ? lineNumbers.map(function (line) {
            return [args[name][line][0]];
          })
          : args[name];
      });
      return {function: fn, args: cut, metric: metric};
    },
  };
}

/** How a SCOPE3_IMPACT_TABLE table splits into lines (one per data row), or null when it is not a table. */
function planTable_(table) {
  if (!Array.isArray(table) || table.length < 2 || !Array.isArray(table[0])) return null;
  const header = table[0];
  const data = table.slice(1);
  if (data.length > SCOPE3_MAX_LINES_) return null;
  return {
    lines: data.length,
    header: header,
    blockValues: function (start, end) {
      return data.slice(start, end);
    },
    lineValues: function (line) {
      return data[line];
    },
    body: function (lineNumbers, metric) {
      return {
        function: 'SCOPE3_IMPACT_TABLE',
        table: [header].concat(lineNumbers.map(function (line) {
          return data[line];
        })),
        metric: metric,
      };
    },
  };
}

/** The request body exactly as the user gave it, for inputs we do not split. */
function rawBody_(call, metric) {
  if (call.fn === 'SCOPE3_IMPACT_TABLE') return {function: call.fn, table: call.table, metric: metric};
  const args = {};
  argumentNames_(call.fn).forEach(function (name) {
    if (call.args[name] !== undefined) args[name] = call.args[name];
  });
  return {function: call.fn, args: args, metric: metric};
}

/**
 * POSTs every body to /v1/sheets/impact in one fetchAll and returns the answers ({columns, values} and the
 * catalog version they came from: '-' from a server that sends none), or throws a readable Error.
 */
function postAll_(settings, bodies) {
  const url = settings.url + '/v1/sheets/impact';
  const requests = bodies.map(function (body) {
    return {
      url: url,
      method: 'post',
      contentType: 'application/json',
      headers: {Authorization: 'Bearer ' + settings.key},
      payload: JSON.stringify(body),
      muteHttpExceptions: true,
    };
  });
  const responses = fetchAllOrExplain_(settings, requests);
  const busy = [];
  responses.forEach(function (response, i) {
    if (response.getResponseCode() === 503) busy.push(i);
  });
  if (busy.length > 0) {
    Utilities.sleep(retryAfterSeconds_(responses[busy[0]]) * 1000);
    const again = fetchAllOrExplain_(settings, busy.map(function (i) {
      return requests[i];
    }));
    busy.forEach(function (i, k) {
      responses[i] = again[k];
    });
  }
  return responses.map(function (response) {
    const answer = readJson_(response);
    return {
      columns: answer.columns,
      values: answer.values,
      version: headerValue_(response.getHeaders(), SCOPE3_CATALOG_VERSION_HEADER_) || '-',
    };
  });
}

/**
 * UrlFetchApp.fetchAll, tried once more after a dropped connection (the server instance answering went away
 * mid-request; estimates are safe to ask twice), with a readable Error when the backend cannot be reached.
 */
function fetchAllOrExplain_(settings, requests) {
  try {
    return UrlFetchApp.fetchAll(requests);
  } catch (first) {
    Utilities.sleep(SCOPE3_RECONNECT_WAIT_MS_);
    try {
      return UrlFetchApp.fetchAll(requests);
    } catch (e) {
      throw unreachable_(settings, e);
    }
  }
}

/** Calls a path of the API with the saved key; the response whatever its status, or a readable Error. */
function fetchApi_(path, params) {
  const settings = requireSettings_();
  const request = Object.assign({}, params, {
    headers: {Authorization: 'Bearer ' + settings.key},
    muteHttpExceptions: true,
  });
  try {
    return UrlFetchApp.fetch(settings.url + path, request);
  } catch (e) {
    throw unreachable_(settings, e);
  }
}

function unreachable_(settings, e) {
  return new Error('Scope3: cannot reach ' + settings.url + ' (' + e.message + ')');
}

/** The seconds a 503 asks to wait (its Retry-After), from 1 to SCOPE3_RETRY_MAX_WAIT_S_. */
function retryAfterSeconds_(response) {
  const asked = Number(headerValue_(response.getHeaders(), 'Retry-After'));
  if (!isFinite(asked) || asked < 1) return 1;
  return Math.min(asked, SCOPE3_RETRY_MAX_WAIT_S_);
}

/** GETs a path of the API with the saved key and returns the parsed JSON, or throws a readable Error. */
function getJson_(path) {
  return readJson_(fetchApi_(path, {method: 'get'}));
}

function readJson_(response) {
  const status = response.getResponseCode();
  const text = response.getContentText();
  if (status !== 200) throw new Error(describeFailure_(status, text));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error('Scope3: the server sent an answer that is not JSON (HTTP 200)');
  }
}

/** One line for a failed call: the server's own message when it sent one. */
function describeFailure_(status, text) {
  if (status === 401) {
    return 'Scope3: API key rejected (HTTP 401) — set it in Extensions → Scope3 → Settings…';
  }
  let message = '';
  try {
    message = JSON.parse(text).message || '';
  } catch (e) {
    // Not our server's JSON error (a proxy's HTML page, say): the status alone has to do.
  }
  if (status === 503) {
    return 'Scope3: backend briefly unavailable (HTTP 503) — recalculate in a moment' +
      (message ? ' (' + message + ')' : '');
  }
  if (status === 429) {
    return 'Scope3: too many requests (HTTP 429) — wait a minute, then recalculate' +
      (message ? ' (' + message + ')' : '');
  }
  return 'Scope3: ' + (message || 'the server answered an error') + ' (HTTP ' + status + ')';
}

/** Blank, null and omitted all mean the default metric (energy_wh, gco2e, water_ml). */
function normalizeMetric_(metric) {
  if (metric === undefined || metric === null) return '';
  if (Array.isArray(metric)) return metric;
  return String(metric).trim();
}

function sha256WebSafe_(text) {
  const digest = Utilities.computeDigest(Utilities.DigestAlgorithm.SHA_256, text, Utilities.Charset.UTF_8);
  return Utilities.base64EncodeWebSafe(digest);
}

function cacheGetAll_(cache, keys) {
  const found = {};
  for (let start = 0; start < keys.length; start += SCOPE3_CACHE_BATCH_) {
    const part = cache.getAll(keys.slice(start, start + SCOPE3_CACHE_BATCH_));
    Object.keys(part).forEach(function (key) {
      found[key] = part[key];
    });
  }
  return found;
}

function cachePutAll_(cache, entries) {
  const keys = Object.keys(entries);
  for (let start = 0; start < keys.length; start += SCOPE3_CACHE_BATCH_) {
    const part = {};
    keys.slice(start, start + SCOPE3_CACHE_BATCH_).forEach(function (key) {
      part[key] = entries[key];
    });
    cache.putAll(part, SCOPE3_CACHE_SECONDS_);
  }
}

function uniqueStrings_(list) {
  const seen = {};
  return list.filter(function (item) {
    if (seen[item]) return false;
    seen[item] = true;
    return true;
  });
}

/** A response header by name, whatever its case; null when absent. */
function headerValue_(headers, name) {
  const wanted = name.toLowerCase();
  const found = Object.keys(headers || {}).filter(function (header) {
    return header.toLowerCase() === wanted;
  });
  return found.length ? String(headers[found[0]]) : null;
}
