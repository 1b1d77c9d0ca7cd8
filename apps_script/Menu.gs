/**
 * The Extensions → Scope3 menu and its actions. Menu actions may write cells and open dialogs; custom
 * functions may not, which is why refreshing, freezing and settings live here.
 */

const SCOPE3_MODELS_SHEET_ = 'Models';
const SCOPE3_EXAMPLE_SHEET_ = 'Scope3 example';
// The widest SCOPE3_* output (metric "all", the 3 equivalences and energy_class): how far right freezeResults looks
// for spilled values. SCOPE3_COMPARE spills at most 18 (6 metrics).
const SCOPE3_MAX_RESULT_COLUMNS_ = 23;

/** Builds the add-on menu. Runs without authorization (AuthMode.NONE), so it only adds items. */
function onOpen(e) {
  SpreadsheetApp.getUi()
    .createAddonMenu()
    .addItem('Settings…', 'showSettings')
    .addItem('Refresh Models tab', 'refreshModelsTab')
    .addItem('Recalculate SCOPE3 formulas', 'recalculateFormulas')
    .addItem('Insert example sheet', 'insertExampleSheet')
    .addItem('Explain this estimate', 'showExplain')
    .addItem('Insert summary', 'insertSummary')
    .addSeparator()
    .addItem('Freeze results as values', 'freezeResults')
    .addItem('Estimate this sheet as a batch', 'estimateSheetAsBatch')
    .addItem('Show batch progress', 'showBatchProgress')
    .addToUi();
}

function onInstall(e) {
  onOpen(e);
}

/** Menu action: writes the catalog this key can use (global models and the account's own) to the Models tab. */
function refreshModelsTab() {
  const values = getJson_('/v1/sheets/catalog/models').values;
  const width = values.reduce(function (widest, row) {
    return Math.max(widest, row.length);
  }, 0);
  const grid = values.map(function (row) {
    const cells = row.map(asCellValue_);
    while (cells.length < width) cells.push('');
    return cells;
  });
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  const sheet = spreadsheet.getSheetByName(SCOPE3_MODELS_SHEET_) || spreadsheet.insertSheet(SCOPE3_MODELS_SHEET_);
  sheet.clearContents();
  if (grid.length > 0 && width > 0) {
    // A new sheet has 1,000 rows and 26 columns; an account's own models may need more.
    if (sheet.getMaxRows() < grid.length) sheet.insertRowsAfter(sheet.getMaxRows(), grid.length - sheet.getMaxRows());
    if (sheet.getMaxColumns() < width) sheet.insertColumnsAfter(sheet.getMaxColumns(), width - sheet.getMaxColumns());
    sheet.getRange(1, 1, grid.length, width).setValues(grid);
  }
  sheet.setFrozenRows(1);
  spreadsheet.toast('Models tab: ' + Math.max(grid.length - 1, 0) + ' models', 'Scope3', 5);
}

/**
 * A catalog value as setValues should get it. setValues reads text as if typed, so an account's model named
 * "=HYPERLINK(…)" would become a formula: a leading apostrophe keeps such text as text.
 */
function asCellValue_(cell) {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string' && /^[=+\-@]/.test(cell)) return "'" + cell;
  return cell;
}

/** Menu action: a new sheet showing both functions on a small usage table. Never overwrites a sheet. */
function insertExampleSheet() {
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  let name = SCOPE3_EXAMPLE_SHEET_;
  for (let n = 2; spreadsheet.getSheetByName(name); n++) name = SCOPE3_EXAMPLE_SHEET_ + ' ' + n;
  const sheet = spreadsheet.insertSheet(name);

  const usage = [
    ['model', 'input_tokens', 'output_tokens', 'task', 'hosting', 'location'],
    ['gpt-4o', 1200, 350, 'text-generation', 'azure-openai', 'US-NY'],
    ['gpt-4o-mini', 800, 200, 'text-generation', 'openai', ''],
    ['llama_31_8b', 1000, 300, 'text-generation', 'aws:p4d.24xlarge', 'us-east-1'],
    ['claude-3-5-sonnet', 2000, 500, 'text-generation', 'aws-bedrock', ''],
    ['', '', '', '', '', ''],
    ['mistral-large-2411', 1500, 400, 'text-generation', 'mistral', 'FR'],
    ['text-embedding-3-small', 5000, 0, 'text-embedding', 'openai', ''],
    ['llama_31_70b', 3000, 800, 'text-generation', 'aws-bedrock', 'us-west-2'],
  ];
  sheet.getRange(1, 1, usage.length, usage[0].length).setValues(usage);
  sheet.getRange(1, 8, 1, 3).setValues([['energy (Wh)', 'carbon (g CO2e)', 'water (mL)']]);
  sheet.getRange(2, 8).setFormula('=SCOPE3_IMPACT(A2:A9, B2:B9, C2:C9, D2:D9, E2:E9, F2:F9)');

  const table = [
    ['SCOPE3_IMPACT_TABLE: one formula for a table whose first row names the fields', '', ''],
    ['model', 'input_tokens', 'output_tokens'],
    ['gpt-4o', 500, 150],
    ['gpt-4o-mini', 500, 150],
    ['llama_31_8b', 500, 150],
  ];
  sheet.getRange(11, 1, table.length, 3).setValues(table);
  sheet.getRange(12, 5).setFormula('=SCOPE3_IMPACT_TABLE(A12:C15, "gco2e")');

  sheet.getRange(1, 1, 1, 10).setFontWeight('bold');
  sheet.getRange(12, 1, 1, 5).setFontWeight('bold');
  sheet.setFrozenRows(1);
  spreadsheet.setActiveSheet(sheet);
  spreadsheet.toast('Sheet "' + name + '" added', 'Scope3', 5);
}

/**
 * Menu action: replaces every SCOPE3_* formula on the active sheet, and the cells it spilled into, by their
 * values, so a finished sheet stops recalculating (and calling the API). Other formulas stay.
 */
function freezeResults() {
  const sheet = SpreadsheetApp.getActiveSpreadsheet().getActiveSheet();
  const lastRow = sheet.getLastRow();
  const lastColumn = sheet.getLastColumn();
  if (lastRow === 0 || lastColumn === 0) {
    SpreadsheetApp.getActiveSpreadsheet().toast('No SCOPE3 formulas on this sheet', 'Scope3', 5);
    return;
  }
  const formulas = sheet.getRange(1, 1, lastRow, lastColumn).getFormulas();
  const blocks = [];
  formulas.forEach(function (row, r) {
    row.forEach(function (formula, c) {
      if (/SCOPE3_/i.test(formula)) blocks.push(spillBlock_(formulas, r, c));
    });
  });
  blocks.forEach(function (block) {
    const range = sheet.getRange(block.row + 1, block.column + 1, block.height, block.width);
    // Pasting a plain value onto itself changes nothing, so a generous block loses nothing.
    range.copyTo(range, SpreadsheetApp.CopyPasteType.PASTE_VALUES, false);
  });
  SpreadsheetApp.getActiveSpreadsheet().toast(
    blocks.length + (blocks.length === 1 ? ' formula' : ' formulas') + ' frozen as values', 'Scope3', 5);
}

/**
 * The cells a formula at (r, c) (0-based) may have spilled into: down to the row before the next formula in
 * its column, right up to SCOPE3_MAX_RESULT_COLUMNS_ columns but not into a column holding a formula.
 */
function spillBlock_(formulas, r, c) {
  let bottom = r;
  while (bottom + 1 < formulas.length && formulas[bottom + 1][c] === '') bottom++;
  let right = c;
  const limit = Math.min(c + SCOPE3_MAX_RESULT_COLUMNS_ - 1, formulas[0].length - 1);
  while (right + 1 <= limit && !columnHasFormula_(formulas, right + 1, r, bottom)) right++;
  return {row: r, column: c, height: bottom - r + 1, width: right - c + 1};
}

function columnHasFormula_(formulas, column, top, bottom) {
  for (let r = top; r <= bottom; r++) {
    if (formulas[r][column] !== '') return true;
  }
  return false;
}
