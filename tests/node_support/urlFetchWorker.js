'use strict';
// Worker thread behind the UrlFetchApp stand-in. UrlFetchApp is synchronous and Node's fetch is not: the main
// thread posts [{url, method, headers, body}], then blocks in Atomics.wait until this worker has made every
// request at once with real HTTP, posted [{status, headers, body} | {error}] back and raised the flag.

const { workerData } = require('node:worker_threads');

const TIMEOUT_MS = 60_000;
const { port, flag } = workerData;
const signal = new Int32Array(flag);

async function send(request) {
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: request.followRedirects ? 'follow' : 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const headers = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { status: response.status, headers, body: await response.text() };
  } catch (error) {
    const cause = error.cause && error.cause.code ? ` (${error.cause.code})` : '';
    return { error: `${error.message}${cause}` };
  }
}

port.on('message', async (requests) => {
  let reply;
  try {
    reply = { responses: await Promise.all(requests.map(send)) };
  } catch (error) {
    reply = { failure: String(error && error.stack ? error.stack : error) };
  }
  port.postMessage(reply);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
