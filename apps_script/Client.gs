/**
 * Talks to the backend's POST /v1/sheets/impact: a whole range per HTTP call, every line cached.
 *
 * Each cell that calls a custom function is one execution with a 30 s limit, and URL Fetch is capped per day,
 * so a range goes out as at most one request per SCOPE3_LINE_CHUNK_ lines, all in one fetchAll, and each
 * line's result is cached: recalculating an unchanged sheet makes no HTTP call at all.
 */

const SCOPE3_LINE_CHUNK_ = 5000;
// The server refuses more lines per call; such calls go out as they are so that its message is shown.
const SCOPE3_MAX_LINES_ = 10000;
// CacheService's longest expiry (6 h).
const SCOPE3_CACHE_SECONDS_ = 21600;
// Keys per getAll/putAll call.
const SCOPE3_CACHE_BATCH_ = 500;
const SCOPE3_ERROR_PREFIX_ = '#ERROR';
const SCOPE3_IMPACT_ARGS_ = ['model', 'input_tokens', 'output_tokens', 'task', 'hosting', 'location'];

/**
 * Runs one custom-function call through the cache and the sheets endpoint.
 *
 * @param {{fn: string, metric: *, args?: Object, table?: Array<Array<*>>}} call
 * @return {{columns: (Array<string>|null), values: Array<Array<*>>}}
 */
function runSheetsCall_(call) {
  const settings = requireSettings_();
  const metric = normalizeMetric_(call.metric);
  const plan = call.fn === 'SCOPE3_IMPACT_TABLE' ? planTable_(call.table) : planArgs_(call.args);
  if (plan === null) {
    // Inconsistent or oversized input: the server's 400 explains it better than we could.
    return postUncached_(settings, rawBody_(call, metric));
  }

  const keyHash = sha256WebSafe_(settings.key);
  const lineKeys = [];
  for (let i = 0; i < plan.lines; i++) {
    lineKeys.push(cacheKey_([call.fn, metric, settings.url, keyHash, plan.header, plan.lineValues(i)]));
  }
  const columnsKey = cacheKey_(['columns', settings.url, metric]);
  // getDocumentCache() is null outside a document; cache keys hold the URL and the API key's hash, so the
  // script cache is safe to share.
  const cache = CacheService.getDocumentCache() || CacheService.getScriptCache();
  const hits = cacheGetAll_(cache, uniqueStrings_(lineKeys.concat([columnsKey])));

  const rows = {};
  Object.keys(hits).forEach(function (key) {
    if (key !== columnsKey) rows[key] = JSON.parse(hits[key]);
  });
  let columns = hits[columnsKey] ? JSON.parse(hits[columnsKey]) : null;

  // One request line per distinct missing key: identical lines are asked for once.
  const missing = [];
  const asked = {};
  lineKeys.forEach(function (key, i) {
    if (!(key in rows) && !asked[key]) {
      asked[key] = true;
      missing.push(i);
    }
  });
  if (missing.length === 0 && columns === null && plan.needsColumns) missing.push(0);

  if (missing.length > 0) {
    const chunks = [];
    for (let start = 0; start < missing.length; start += SCOPE3_LINE_CHUNK_) {
      chunks.push(missing.slice(start, start + SCOPE3_LINE_CHUNK_));
    }
    const answers = postAll_(settings, chunks.map(function (lines) {
      return plan.body(lines, metric);
    }));
    const fresh = {};
    answers.forEach(function (answer, c) {
      if (!Array.isArray(answer.values) || answer.values.length !== chunks[c].length) {
        throw new Error('Scope3: the server answered ' + (answer.values ? answer.values.length : 'no') +
          ' rows for ' + chunks[c].length + ' lines');
      }
      columns = answer.columns;
      chunks[c].forEach(function (line, j) {
        const row = answer.values[j];
        rows[lineKeys[line]] = row;
        if (!isErrorRow_(row)) fresh[lineKeys[line]] = JSON.stringify(row);
      });
    });
    fresh[columnsKey] = JSON.stringify(columns);
    cachePutAll_(cache, fresh);
  }

  return {
    columns: columns,
    values: lineKeys.map(function (key) {
      return rows[key];
    }),
  };
}

/**
 * How SCOPE3_IMPACT's arguments split into lines, or null when they are inconsistent (a range wider than one
 * column, ranges of different heights, too many lines).
 */
function planArgs_(args) {
  const names = SCOPE3_IMPACT_ARGS_.filter(function (name) {
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
    needsColumns: false,
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
      return {function: 'SCOPE3_IMPACT', args: cut, metric: metric};
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
    needsColumns: true,
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
  SCOPE3_IMPACT_ARGS_.forEach(function (name) {
    if (call.args[name] !== undefined) args[name] = call.args[name];
  });
  return {function: call.fn, args: args, metric: metric};
}

function postUncached_(settings, body) {
  const answer = postAll_(settings, [body])[0];
  return {columns: answer.columns, values: answer.values};
}

/** POSTs every body to /v1/sheets/impact in one fetchAll and returns the parsed answers, or throws. */
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
  let responses;
  try {
    responses = UrlFetchApp.fetchAll(requests);
  } catch (e) {
    throw new Error('Scope3: cannot reach ' + settings.url + ' (' + e.message + ')');
  }
  return responses.map(readJson_);
}

/** GETs a path of the API with the saved key and returns the parsed JSON, or throws a readable Error. */
function getJson_(path) {
  const settings = requireSettings_();
  let response;
  try {
    response = UrlFetchApp.fetch(settings.url + path, {
      method: 'get',
      headers: {Authorization: 'Bearer ' + settings.key},
      muteHttpExceptions: true,
    });
  } catch (e) {
    throw new Error('Scope3: cannot reach ' + settings.url + ' (' + e.message + ')');
  }
  return readJson_(response);
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
  if (status === 429) {
    return 'Scope3: too many requests (HTTP 429) — wait a minute, then recalculate' +
      (message ? ' (' + message + ')' : '');
  }
  return 'Scope3: ' + (message || 'the server answered an error') + ' (HTTP ' + status + ')';
}

function isErrorRow_(row) {
  return Array.isArray(row) && typeof row[0] === 'string' && row[0].indexOf(SCOPE3_ERROR_PREFIX_) === 0;
}

/** Blank, null and omitted all mean the default metric (energy_wh, gco2e, water_ml). */
function normalizeMetric_(metric) {
  if (metric === undefined || metric === null) return '';
  if (Array.isArray(metric)) return metric;
  return String(metric).trim();
}

function cacheKey_(parts) {
  return 's3:' + sha256WebSafe_(JSON.stringify(parts));
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
