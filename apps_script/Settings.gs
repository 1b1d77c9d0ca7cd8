/**
 * The backend URL and API key, kept in document properties: a custom function reading user properties would
 * see the spreadsheet owner's, not the viewer's. The Settings dialog is the only writer.
 */

const SCOPE3_URL_PROPERTY_ = 'SCOPE3_API_URL';
const SCOPE3_KEY_PROPERTY_ = 'SCOPE3_API_KEY';
const SCOPE3_SETTINGS_HINT_ = 'Extensions → Scope3 → Settings…';
// The shape of a URL: https (plain http only to this machine, which only a test build's allowlist lists). No
// query, fragment or credentials. Beyond its shape a URL must be under an entry of the manifest's
// urlFetchWhitelist (SCOPE3_URL_ALLOWLIST_, written by the build), since UrlFetch refuses every other URL.
const SCOPE3_HTTPS_URL_ = /^https:\/\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[^\s?#@]*)?$/i;
const SCOPE3_LOCAL_HTTP_URL_ = /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?(\/[^\s?#@]*)?$/i;

/** Menu action: opens the Settings dialog. */
function showSettings() {
  const html = HtmlService.createHtmlOutputFromFile('SettingsDialog').setWidth(460).setHeight(340);
  SpreadsheetApp.getUi().showModalDialog(html, 'Scope3 settings');
}

/**
 * For the dialog: the saved URL and whether a key is saved, with its last 4 characters. Never the key.
 *
 * @return {{url: string, keySet: boolean, keyHint: string}}
 */
function getSettings() {
  const saved = readSettings_();
  return {url: saved.url, keySet: saved.key !== '', keyHint: saved.key.slice(-4)};
}

/**
 * For the dialog: validates and saves the URL and, when one is given, the key. A blank key keeps the saved one
 * only for the URL it was saved with: a key goes to no other server, so a new URL with a blank key clears it
 * (the dialog then asks for one). Every SCOPE3_* formula of the spreadsheet is then recalculated.
 *
 * @param {{url: string, key: string}} form
 * @return {{url: string, keySet: boolean, keyHint: string}} the settings now saved
 */
function saveSettings(form) {
  const url = normalizeApiUrl_(form && form.url);
  const key = normalizeApiKey_(form && form.key);
  const saved = readSettings_();
  const props = PropertiesService.getDocumentProperties();
  const update = {};
  update[SCOPE3_URL_PROPERTY_] = url;
  if (key !== '') update[SCOPE3_KEY_PROPERTY_] = key;
  props.setProperties(update);
  if (key === '' && url !== saved.url) props.deleteProperty(SCOPE3_KEY_PROPERTY_);
  // Formulas that showed "no API URL set", or numbers from another backend, run again with what was saved
  // (a new URL or key is a new cache context, so they ask the server).
  rewriteScope3Formulas_();
  return getSettings();
}

/**
 * For the dialog: checks the URL and key with GET /model?limit=1. A blank field means the saved value, except
 * that the saved key is sent only to the saved URL: a newly typed URL is tested with the typed key alone.
 *
 * @param {{url: string, key: string}} form
 * @return {{ok: boolean, message: string}}
 */
function testConnection(form) {
  const saved = readSettings_();
  let url;
  let key;
  try {
    url = form && String(form.url || '').trim() ? normalizeApiUrl_(form.url) : saved.url;
    key = normalizeApiKey_(form && form.key) || (url === saved.url ? saved.key : '');
  } catch (e) {
    return {ok: false, message: e.message};
  }
  if (url === '') return {ok: false, message: 'Enter the API URL first.'};
  if (key === '') {
    return {ok: false, message: url === saved.url || saved.key === '' ? 'Enter an API key first.'
      : 'Enter the API key for ' + url + ' (the saved key is only sent to ' + saved.url + ').'};
  }

  let response;
  try {
    response = UrlFetchApp.fetch(url + '/model?limit=1', {
      method: 'get',
      headers: {Authorization: 'Bearer ' + key},
      muteHttpExceptions: true,
    });
  } catch (e) {
    return {ok: false, message: 'Cannot reach ' + url + ' (' + e.message + ')'};
  }
  const status = response.getResponseCode();
  if (status === 401) return {ok: false, message: 'API key rejected (HTTP 401): check the key.'};
  if (status !== 200) return {ok: false, message: describeFailure_(status, response.getContentText())};
  const total = headerValue_(response.getHeaders(), 'X-Total-Count');
  return {ok: true, message: total === null ? 'Connected.' : 'Connected: ' + total + ' models'};
}

/** The saved settings, blank strings when unset. */
function readSettings_() {
  const props = PropertiesService.getDocumentProperties();
  return {
    url: props.getProperty(SCOPE3_URL_PROPERTY_) || '',
    key: props.getProperty(SCOPE3_KEY_PROPERTY_) || '',
  };
}

/** The saved settings, or a readable Error naming the menu that sets them. */
function requireSettings_() {
  const saved = readSettings_();
  if (saved.url === '') throw new Error('Scope3: no API URL set — ' + SCOPE3_SETTINGS_HINT_);
  if (saved.key === '') throw new Error('Scope3: no API key set — ' + SCOPE3_SETTINGS_HINT_);
  return saved;
}

/** The URL without trailing slashes, or an Error saying what is accepted. */
function normalizeApiUrl_(value) {
  const url = String(value === undefined || value === null ? '' : value).trim().replace(/\/+$/, '');
  if (!SCOPE3_HTTPS_URL_.test(url) && !SCOPE3_LOCAL_HTTP_URL_.test(url)) {
    const shown = url === '' ? 'nothing' : '"' + (url.length > 60 ? url.slice(0, 60) + '…' : url) + '"';
    throw new Error('The API URL must look like https://scope3-api.example.com; got ' + shown + '.');
  }
  if (!urlAllowed_(url)) {
    const list = SCOPE3_URL_ALLOWLIST_.length ? SCOPE3_URL_ALLOWLIST_.join(', ') : 'empty (not built)';
    throw new Error('This copy of the script can only reach the URLs in its manifest\'s urlFetchWhitelist (' + list +
      '), and ' + url + ' is not under them. Rebuild it with `npm run build:addon -- ' +
      (/^https:/i.test(url) ? url + '/' : '<its https:// URL>') + '`' +
      (/^http:/i.test(url) ? ' (UrlFetch runs on Google\'s servers: it never reaches localhost).' : '.'));
  }
  return url;
}

/** Whether UrlFetch would fetch under this URL: an allowlist entry is a prefix of it (entries end in "/"). */
function urlAllowed_(url) {
  const withSlash = url + '/';
  return SCOPE3_URL_ALLOWLIST_.some(function (entry) {
    return withSlash.toLowerCase().indexOf(String(entry).toLowerCase()) === 0;
  });
}

/** The key trimmed ('' when blank), or an Error: it travels in an HTTP header, so no spaces or line breaks. */
function normalizeApiKey_(value) {
  const key = String(value === undefined || value === null ? '' : value).trim();
  if (/[\s\u0000-\u001f\u007f]/.test(key)) throw new Error('The API key must not contain spaces or line breaks.');
  return key;
}
