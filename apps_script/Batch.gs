/**
 * Extensions → Scope3 → Estimate this sheet as a batch, for sheets too large for live formulas: the sheet's table
 * goes to POST /v1/batch in one call, the server's queue workers estimate it, and a sidebar follows the task and
 * writes the results to the source's results tab, row for row level with the source.
 */

const SCOPE3_BATCH_TASK_PROPERTY_ = 'SCOPE3_BATCH_TASK';
// Which tab holds each source sheet's results: {source sheet id: results sheet id}.
const SCOPE3_BATCH_RESULTS_PROPERTY_ = 'SCOPE3_BATCH_RESULTS';
const SCOPE3_BATCH_HINT_ = 'Extensions → Scope3 → Estimate this sheet as a batch';
// The server names each object after its sheet row.
const SCOPE3_BATCH_ROW_KEY_ = /^row (\d+)$/;

/**
 * Menu action: sends the active sheet's table as one batch task and opens the sidebar that follows it.
 *
 * @return {Object|null} the task saved for the sidebar, or null when none started (an alert says why)
 */
function estimateSheetAsBatch() {
  const ui = SpreadsheetApp.getUi();
  let task;
  try {
    task = submitBatch_(SpreadsheetApp.getActiveSpreadsheet().getActiveSheet());
  } catch (e) {
    ui.alert('Scope3 batch', e.message, ui.ButtonSet.OK);
    return null;
  }
  ui.showSidebar(HtmlService.createHtmlOutputFromFile('BatchSidebar').setTitle('Scope3 batch'));
  return task;
}

/**
 * Menu action: reopens the sidebar on the last batch task (after the sidebar was closed, or the sheet reopened).
 *
 * @return {Object|null} the saved task, or null when there is none (an alert says so)
 */
function showBatchProgress() {
  const ui = SpreadsheetApp.getUi();
  let saved;
  try {
    saved = savedBatch_();
  } catch (e) {
    ui.alert('Scope3 batch', e.message, ui.ButtonSet.OK);
    return null;
  }
  ui.showSidebar(HtmlService.createHtmlOutputFromFile('BatchSidebar').setTitle('Scope3 batch'));
  return saved;
}

/**
 * For the sidebar: the saved task as the server sees it now.
 *
 * @return {{task_id: string, sheet: string, status: string, total_items: number,
 *     counts: {queued: number, completed: number, failed: number}, progress: number, error: (string|null)}}
 */
function batchProgress() {
  const saved = savedBatch_();
  const task = getJson_('/v1/batch/task/' + encodeURIComponent(saved.task_id));
  return {
    task_id: task.task_id,
    sheet: saved.sheet,
    status: task.status,
    total_items: task.total_items,
    counts: task.counts,
    progress: task.progress,
    error: task.error,
  };
}

/**
 * For the sidebar: downloads the finished task's results and writes them to the source sheet's results tab
 * ("<source> impacts", made on the first write, replaced in place on each later one): the metrics the server
 * names (those of a blank `metric`: energy_wh, gco2e, water_ml) and error, each result on its source row. The
 * tab is sized to what is written, so 100,000 results take 400,000 cells of the spreadsheet's 10 million.
 *
 * @return {{sheet: string, rows: number, failed: number}}
 */
function writeBatchResults() {
  const saved = savedBatch_();
  // CSV, not JSONL: a quarter of the size, so 100,000 rows stay well under UrlFetchApp's 50 MB answer limit.
  // A blank metric asks for the Sheets functions' default columns, summed by the server.
  const path = '/v1/batch/task/' + encodeURIComponent(saved.task_id) + '/results?format=csv&metric=';
  const response = fetchApi_(path, {
    method: 'get',
  });
  if (response.getResponseCode() !== 200) {
    throw new Error(describeFailure_(response.getResponseCode(), response.getContentText()));
  }
  const results = batchResultRows_(Utilities.parseCsv(response.getContentText()), saved.first_row);
  const sheet = placeBatchResults_(saved, results.grid);
  return {sheet: sheet.getName(), rows: results.rows, failed: results.failed};
}

/**
 * Writes a results grid (its header on the source's header row) to the source sheet's results tab, sized to the
 * grid, and returns the tab. The tab is found by the id kept in document properties, so a renamed results tab is
 * still replaced, and a sheet of the user's that happens to be called "<source> impacts" is never written over.
 */
function placeBatchResults_(saved, grid) {
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  const props = PropertiesService.getDocumentProperties();
  /** @type {Object<string, number>} */
  const tabs = JSON.parse(props.getProperty(SCOPE3_BATCH_RESULTS_PROPERTY_) || '{}');
  const source = String(saved.sheet_id === undefined ? saved.sheet : saved.sheet_id);
  let sheet = spreadsheet.getSheets().filter(function (tab) {
    return tab.getSheetId() === tabs[source];
  })[0];
  if (!sheet) {
    let name = saved.sheet + ' impacts';
    for (let n = 2; spreadsheet.getSheetByName(name); n++) name = saved.sheet + ' impacts ' + n;
    sheet = spreadsheet.insertSheet(name);
    tabs[source] = sheet.getSheetId();
    props.setProperty(SCOPE3_BATCH_RESULTS_PROPERTY_, JSON.stringify(tabs));
  }
  const width = grid[0].length;
  const lastRow = saved.first_row + grid.length - 1;
  sheet.clearContents();
  sheet.setFrozenRows(0);
  resizeSheet_(sheet, lastRow, width);
  sheet.getRange(saved.first_row, 1, grid.length, width).setValues(grid);
  if (lastRow > saved.first_row) sheet.setFrozenRows(saved.first_row);
  return sheet;
}

/** Grows or shrinks a sheet to exactly this many rows and columns (each at least 1). */
function resizeSheet_(sheet, rows, columns) {
  const maxRows = sheet.getMaxRows();
  if (maxRows < rows) sheet.insertRowsAfter(maxRows, rows - maxRows);
  else if (maxRows > rows) sheet.deleteRows(rows + 1, maxRows - rows);
  const maxColumns = sheet.getMaxColumns();
  if (maxColumns < columns) sheet.insertColumnsAfter(maxColumns, columns - maxColumns);
  else if (maxColumns > columns) sheet.deleteColumns(columns + 1, maxColumns - columns);
}

/** POSTs the sheet's table (from its first non-blank row, the header) and saves the task it starts. */
function submitBatch_(sheet) {
  const values = sheet.getDataRange().getValues();
  let header = 0;
  while (header < values.length && isBlankRow_(values[header])) header++;
  if (header === values.length) {
    throw new Error('Scope3: "' + sheet.getName() + '" is empty — put a header row (model, input_tokens, ' +
      'output_tokens, …) above one row per inference');
  }
  const response = fetchApi_('/v1/batch', {
    method: 'post',
    contentType: 'application/json',
    payload: JSON.stringify({table: values.slice(header), first_row: header + 1}),
  });
  const status = response.getResponseCode();
  const text = response.getContentText();
  if (status === 503 && errorReason_(text) === 'no_job_queue') {
    throw new Error('Scope3: the server has no job queue, so it cannot run batches (HTTP 503) — its administrator ' +
      'sets REDIS_URL and starts `python -m server batch-worker`; meanwhile SCOPE3_IMPACT_TABLE works');
  }
  if (status !== 202) throw new Error(describeFailure_(status, text));
  const answer = JSON.parse(text);
  const task = {
    task_id: answer.task_id,
    sheet: sheet.getName(),
    sheet_id: sheet.getSheetId(),
    first_row: header + 1,
    total_items: answer.total_items,
    submitted_at: new Date().toISOString(),
  };
  PropertiesService.getDocumentProperties().setProperty(SCOPE3_BATCH_TASK_PROPERTY_, JSON.stringify(task));
  return task;
}

/**
 * The results CSV (object_id, line, key, status, the metric columns, error_code, error_message, error_field) as the
 * rows to write from the header row down: the header, then each result on its sheet row, blank rows left blank.
 */
function batchResultRows_(csv, firstRow) {
  const columns = {};
  csv[0].forEach(function (name, index) {
    columns[name] = index;
  });
  const metrics = csv[0].slice(columns.status + 1, columns.error_code);
  const blank = function () {
    return metrics.map(function () {
      return '';
    });
  };
  /** @type {Array<Array<string|number>>} */
  const grid = [metrics.concat(['error'])];
  let rows = 0;
  let failed = 0;
  csv.slice(1).forEach(function (result) {
    if (isBlankRow_(result)) return;
    const key = SCOPE3_BATCH_ROW_KEY_.exec(result[columns.key] || '');
    if (!key) throw new Error('Scope3: a batch result names no sheet row (' + result.join(',').slice(0, 100) + ')');
    const at = Number(key[1]) - firstRow;
    while (grid.length <= at) grid.push(blank().concat(['']));
    rows++;
    if (result[columns.status] === 'completed') {
      grid[at] = metrics.map(function (name) {
        return Number(result[columns[name]]);
      }).concat(['']);
    } else {
      failed++;
      grid[at] = blank().concat([asCellValue_(result[columns.error_message] || 'not estimated')]);
    }
  });
  return {grid: grid, rows: rows, failed: failed};
}

/** The task estimateSheetAsBatch saved, or a readable Error naming the menu that starts one. */
function savedBatch_() {
  const saved = PropertiesService.getDocumentProperties().getProperty(SCOPE3_BATCH_TASK_PROPERTY_);
  if (!saved) throw new Error('Scope3: no batch task yet — ' + SCOPE3_BATCH_HINT_);
  return JSON.parse(saved);
}

/** details.reason of the server's JSON error, or '' for any other answer. */
function errorReason_(text) {
  try {
    return (JSON.parse(text).details || {}).reason || '';
  } catch (e) {
    return '';
  }
}

function isBlankRow_(row) {
  return row.every(function (cell) {
    return cell === '' || cell === null;
  });
}
