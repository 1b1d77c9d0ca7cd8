'use strict';
// A small in-memory spreadsheet with the SpreadsheetApp surface apps_script/ uses. Cells hold a value and a
// formula; formulas are not evaluated (tests put "computed" values where Sheets would, marking spilled cells so
// that they vanish with their formula). Anything Sheets would refuse (out-of-grid ranges, mis-shaped setValues,
// writes from a custom function) throws here too.

const DEFAULT_ROWS = 1000;
const DEFAULT_COLUMNS = 26;
// "Up to 10 million cells or 18,278 columns" per spreadsheet (support.google.com/drive/answer/37603), counted over
// every sheet's grid, blank or not.
const SPREADSHEET_MAX_CELLS = 10_000_000;
const SHEET_MAX_COLUMNS = 18278;

function columnLetters(column) {
  let letters = '';
  for (let n = column; n > 0; n = Math.floor((n - 1) / 26)) {
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  }
  return letters;
}

function parseA1(a1) {
  const match = /^([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?$/i.exec(a1.replace(/\$/g, ''));
  if (!match) throw new Error(`Range not found: ${a1}`);
  const column = (letters) => letters.toUpperCase().split('').reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0);
  const row = Number(match[2]);
  const col = column(match[1]);
  const lastRow = match[4] ? Number(match[4]) : row;
  const lastCol = match[3] ? column(match[3]) : col;
  return { row, column: col, numRows: lastRow - row + 1, numColumns: lastCol - col + 1 };
}

function isCellValue(value) {
  return (
    value === null ||
    ['string', 'number', 'boolean'].includes(typeof value) ||
    Object.prototype.toString.call(value) === '[object Date]'
  );
}

class FakeRange {
  constructor(sheet, row, column, numRows, numColumns) {
    if (row < 1 || column < 1 || numRows < 1 || numColumns < 1) {
      throw new Error('The starting row/column of the range is too small, or the number of rows/columns is 0.');
    }
    if (row + numRows - 1 > sheet.maxRows || column + numColumns - 1 > sheet.maxColumns) {
      throw new Error('The coordinates of the range are outside the dimensions of the sheet.');
    }
    Object.assign(this, { sheet, row, column, numRows, numColumns });
  }

  getSheet() { return this.sheet; }
  getRow() { return this.row; }
  getColumn() { return this.column; }
  getNumRows() { return this.numRows; }
  getNumColumns() { return this.numColumns; }
  getLastRow() { return this.row + this.numRows - 1; }
  getLastColumn() { return this.column + this.numColumns - 1; }

  getA1Notation() {
    const start = `${columnLetters(this.column)}${this.row}`;
    if (this.numRows === 1 && this.numColumns === 1) return start;
    return `${start}:${columnLetters(this.getLastColumn())}${this.getLastRow()}`;
  }

  grid(read) {
    const rows = [];
    for (let r = 0; r < this.numRows; r++) {
      const row = [];
      for (let c = 0; c < this.numColumns; c++) row.push(read(this.sheet.cell(this.row + r, this.column + c)));
      rows.push(row);
    }
    return rows;
  }

  getValues() { return this.grid((cell) => (cell ? cell.value : '')); }
  getValue() { return this.getValues()[0][0]; }
  getFormulas() { return this.grid((cell) => (cell && cell.formula ? cell.formula : '')); }
  getFormula() { return this.getFormulas()[0][0]; }

  checkShape(data, what) {
    if (!Array.isArray(data) || data.length !== this.numRows) {
      throw new Error(
        `The number of rows in the data does not match the number of rows in the range. The data has ${
          Array.isArray(data) ? data.length : 0} but the range has ${this.numRows}.`,
      );
    }
    data.forEach((row) => {
      if (!Array.isArray(row) || row.length !== this.numColumns) {
        throw new Error(
          `The number of columns in the data does not match the number of columns in the range. The data has ${
            Array.isArray(row) ? row.length : 0} but the range has ${this.numColumns}.`,
        );
      }
      row.forEach((value) => {
        if (!isCellValue(value)) throw new Error(`Cannot convert ${JSON.stringify(value)} to a cell ${what}.`);
      });
    });
  }

  setValues(values) {
    this.sheet.spreadsheet.checkWritable('Range.setValues');
    this.checkShape(values, 'value');
    // As typed into a cell: "=…" becomes a formula, a leading apostrophe keeps the rest as text.
    values.forEach((row, r) => row.forEach((value, c) => {
      let cell = { value: value === null ? '' : value, formula: '' };
      if (typeof value === 'string' && value.startsWith("'")) cell = { value: value.slice(1), formula: '' };
      else if (typeof value === 'string' && value.length > 1 && value.startsWith('=')) cell = { value: '', formula: value };
      this.sheet.put(this.row + r, this.column + c, cell);
    }));
    return this;
  }

  setValue(value) { return this.setValues(this.grid(() => value)); }

  setFormulas(formulas) {
    this.sheet.spreadsheet.checkWritable('Range.setFormulas');
    this.checkShape(formulas, 'formula');
    formulas.forEach((row, r) => row.forEach((formula, c) => {
      this.sheet.put(this.row + r, this.column + c, { value: '', formula: String(formula) });
    }));
    return this;
  }

  setFormula(formula) { return this.setFormulas(this.grid(() => formula)); }

  clearContents() {
    this.sheet.spreadsheet.checkWritable('Range.clearContents');
    for (let r = 0; r < this.numRows; r++) {
      for (let c = 0; c < this.numColumns; c++) this.sheet.cells.delete(`${this.row + r},${this.column + c}`);
    }
    return this;
  }

  copyTo(destination, copyPasteType, transposed) {
    this.sheet.spreadsheet.checkWritable('Range.copyTo');
    if (transposed) throw new Error('fake spreadsheet: transposed copies are not modelled');
    const valuesOnly = copyPasteType === 'PASTE_VALUES';
    if (!valuesOnly && copyPasteType !== undefined && copyPasteType !== 'PASTE_NORMAL') {
      throw new Error(`fake spreadsheet: copy type ${copyPasteType} is not modelled`);
    }
    const source = this.grid((cell) => (cell ? { value: cell.value, formula: cell.formula } : { value: '', formula: '' }));
    source.forEach((row, r) => row.forEach((cell, c) => {
      destination.sheet.put(destination.row + r, destination.column + c, {
        value: cell.value,
        formula: valuesOnly ? '' : cell.formula,
      });
    }));
  }

  setFontWeight(weight) { this.sheet.formats.push({ range: this.getA1Notation(), fontWeight: weight }); return this; }
}

// Charts.ChartType as the Charts service names it (the values are the enum's names).
const CHART_TYPES = ['AREA', 'BAR', 'COLUMN', 'COMBO', 'HISTOGRAM', 'LINE', 'PIE', 'SCATTER', 'TABLE'];
const ChartType = Object.freeze(Object.fromEntries(CHART_TYPES.map((name) => [name, name])));

/** An EmbeddedChart as built: its type, ranges (A1 notation), options and anchor. */
class FakeChart {
  constructor(spec) { Object.assign(this, spec); }
  getChartId() { return this.id; }
  getRanges() { return this.ranges.slice(); }
  getOptions() { return { get: (name) => this.options[name] }; }
}

/** Sheet.newChart(): refuses what Sheets refuses (no type, no range, a range of another sheet). */
class FakeChartBuilder {
  constructor(sheet) { Object.assign(this, { sheet, type: null, ranges: [], options: {}, position: null, numHeaders: -1 }); }
  setChartType(type) {
    if (!CHART_TYPES.includes(type)) throw new Error(`Invalid argument: type (${type})`);
    this.type = type;
    return this;
  }
  addRange(range) {
    if (range.getSheet() !== this.sheet) throw new Error('A chart range must be on the sheet the chart is on.');
    this.ranges.push(range);
    return this;
  }
  asPieChart() { return this.setChartType('PIE'); }
  asColumnChart() { return this.setChartType('COLUMN'); }
  asLineChart() { return this.setChartType('LINE'); }
  setNumHeaders(headers) { this.numHeaders = headers; return this; }
  setOption(option, value) { this.options[option] = value; return this; }
  setPosition(anchorRowPos, anchorColPos, offsetX, offsetY) {
    this.position = { row: anchorRowPos, column: anchorColPos, offsetX, offsetY };
    return this;
  }
  build() {
    if (this.type === null) throw new Error('Chart type is required.');
    if (this.ranges.length === 0) throw new Error('The chart has no data ranges.');
    return new FakeChart({
      id: `chart-${this.sheet.spreadsheet.nextChartId++}`,
      type: this.type,
      ranges: this.ranges.map((range) => range.getA1Notation()),
      options: { ...this.options },
      numHeaders: this.numHeaders,
      position: this.position || { row: 1, column: 1, offsetX: 0, offsetY: 0 },
    });
  }
}

class FakeSheet {
  constructor(spreadsheet, name, id) {
    Object.assign(this, { spreadsheet, name, id, cells: new Map(), frozenRows: 0, formats: [], charts: [] });
    // What Sheets has applied (at a flush, or when a script ends) of each cell's formula, and the cells whose
    // applied formula changed since Sheets last evaluated them: what makes a custom function run again.
    this.appliedFormulas = new Map();
    this.changedFormulas = new Set();
    this.lastArguments = new Map(); // formula cell -> its arguments' values (JSON) at its last run
    this.maxRows = DEFAULT_ROWS;
    this.maxColumns = DEFAULT_COLUMNS;
  }

  cell(row, column) { return this.cells.get(`${row},${column}`); }

  /** Writes one cell. Replacing a formula removes what it spilled, as in Sheets, unless rewritten since. */
  put(row, column, cell) {
    const key = `${row},${column}`;
    const old = this.cells.get(key);
    if (old && old.formula && old.formula !== cell.formula) {
      for (const [other, spilled] of this.cells) if (spilled.spilledFrom === key) this.cells.delete(other);
    }
    if (cell.value === '' && cell.formula === '') this.cells.delete(key);
    else this.cells.set(key, cell);
  }

  getName() { return this.name; }
  getSheetId() { return this.id; }

  newChart() { return new FakeChartBuilder(this); }
  getCharts() { return this.charts.slice(); }
  insertChart(chart) {
    this.spreadsheet.checkWritable('Sheet.insertChart');
    if (!(chart instanceof FakeChart)) throw new Error('insertChart needs an EmbeddedChart');
    this.charts.push(chart);
  }
  removeChart(chart) {
    this.spreadsheet.checkWritable('Sheet.removeChart');
    const at = this.charts.indexOf(chart);
    if (at < 0) throw new Error('The chart is not on this sheet.');
    this.charts.splice(at, 1);
  }

  /** The selected cell (A1 until a test selects another with setActiveSelection). */
  getActiveCell() { return this.getRange(this.activeRow || 1, this.activeColumn || 1); }

  setActiveSelection(rangeOrA1) {
    const range = typeof rangeOrA1 === 'string' ? this.getRange(rangeOrA1) : rangeOrA1;
    this.activeRow = range.getRow();
    this.activeColumn = range.getColumn();
    this.spreadsheet.active = this;
    return range;
  }
  getParent() { return this.spreadsheet; }
  getMaxRows() { return this.maxRows; }
  getMaxColumns() { return this.maxColumns; }

  getRange(rowOrA1, column, numRows = 1, numColumns = 1) {
    if (typeof rowOrA1 === 'string') {
      const at = parseA1(rowOrA1);
      return new FakeRange(this, at.row, at.column, at.numRows, at.numColumns);
    }
    return new FakeRange(this, rowOrA1, column, numRows, numColumns);
  }

  extent(index) {
    let last = 0;
    for (const key of this.cells.keys()) last = Math.max(last, Number(key.split(',')[index]));
    return last;
  }

  getLastRow() { return this.extent(0); }
  getLastColumn() { return this.extent(1); }

  getDataRange() {
    return new FakeRange(this, 1, 1, Math.max(this.getLastRow(), 1), Math.max(this.getLastColumn(), 1));
  }

  insertRowsAfter(afterPosition, howMany) {
    this.spreadsheet.checkWritable('Sheet.insertRowsAfter');
    if (afterPosition !== this.maxRows) throw new Error('fake spreadsheet: only appending rows is modelled');
    this.spreadsheet.checkCells(howMany * this.maxColumns);
    this.maxRows += howMany;
    return this;
  }

  insertColumnsAfter(afterPosition, howMany) {
    this.spreadsheet.checkWritable('Sheet.insertColumnsAfter');
    if (afterPosition !== this.maxColumns) throw new Error('fake spreadsheet: only appending columns is modelled');
    if (this.maxColumns + howMany > SHEET_MAX_COLUMNS) throw new Error(`A sheet may have at most ${SHEET_MAX_COLUMNS} columns.`);
    this.spreadsheet.checkCells(howMany * this.maxRows);
    this.maxColumns += howMany;
    return this;
  }

  /** Deletes rows, moving the cells below up; Sheets refuses to delete every row that is not frozen. */
  deleteRows(rowPosition, howMany) {
    this.spreadsheet.checkWritable('Sheet.deleteRows');
    this.checkDeletion(rowPosition, howMany, this.maxRows, 'rows');
    if (this.maxRows - howMany <= this.frozenRows) throw new Error('Sorry, it is not possible to delete all non-frozen rows.');
    this.shiftCells(0, rowPosition, howMany);
    this.maxRows -= howMany;
  }

  deleteColumns(columnPosition, howMany) {
    this.spreadsheet.checkWritable('Sheet.deleteColumns');
    this.checkDeletion(columnPosition, howMany, this.maxColumns, 'columns');
    if (howMany === this.maxColumns) throw new Error('Sorry, it is not possible to delete all columns.');
    this.shiftCells(1, columnPosition, howMany);
    this.maxColumns -= howMany;
  }

  checkDeletion(position, howMany, extent, what) {
    if (!(position >= 1 && howMany >= 1 && position + howMany - 1 <= extent)) {
      throw new Error(`Those ${what} are out of bounds.`);
    }
  }

  /** Removes cells [position, position + howMany) along an axis (0 rows, 1 columns) and moves the rest back. */
  shiftCells(axis, position, howMany) {
    const moved = new Map();
    for (const [key, cell] of this.cells) {
      const at = key.split(',').map(Number);
      if (at[axis] >= position && at[axis] < position + howMany) continue;
      if (at[axis] >= position + howMany) at[axis] -= howMany;
      moved.set(`${at[0]},${at[1]}`, cell);
    }
    this.cells = moved;
    this.appliedFormulas.clear();
    this.changedFormulas.clear();
    this.lastArguments.clear();
  }

  setFrozenRows(rows) {
    this.spreadsheet.checkWritable('Sheet.setFrozenRows');
    if (rows >= this.maxRows) throw new Error('Sorry, it is not possible to freeze all rows.');
    this.frozenRows = rows;
  }

  getFrozenRows() { return this.frozenRows; }

  clearContents() {
    this.spreadsheet.checkWritable('Sheet.clearContents');
    this.cells.clear();
    return this;
  }

  activate() { this.spreadsheet.active = this; return this; }

  /** Applies pending writes as Sheets does at SpreadsheetApp.flush() or a script's end: notes changed formulas. */
  applyFormulas() {
    const keys = new Set([...this.appliedFormulas.keys(), ...this.cells.keys()]);
    for (const key of keys) {
      const cell = this.cells.get(key);
      const formula = cell && cell.formula ? cell.formula : '';
      if (formula !== (this.appliedFormulas.get(key) || '')) {
        if (formula) this.appliedFormulas.set(key, formula);
        else this.appliedFormulas.delete(key);
        this.changedFormulas.add(key);
      }
    }
  }

  /** Test helper: the cells as {A1: value-or-formula}. */
  dump() {
    const out = {};
    for (const [key, cell] of this.cells) {
      const [row, column] = key.split(',').map(Number);
      out[`${columnLetters(column)}${row}`] = cell.formula || cell.value;
    }
    return out;
  }
}

class FakeSpreadsheet {
  constructor(mode) {
    this.mode = mode;
    this.sheets = [];
    this.toasts = [];
    this.nextId = 0;
    this.nextChartId = 1;
    this.active = this.addSheet('Sheet1');
  }

  checkWritable(what) {
    if (this.mode.customFunction) throw new Error(`You do not have permission to call ${what}`);
  }

  /** Cells of every sheet's grid: what the 10-million-cell limit counts. */
  cellCount() {
    return this.sheets.reduce((sum, sheet) => sum + sheet.maxRows * sheet.maxColumns, 0);
  }

  checkCells(adding) {
    if (this.cellCount() + adding > SPREADSHEET_MAX_CELLS) {
      throw new Error(`This action would increase the number of cells in the workbook above the limit of ${SPREADSHEET_MAX_CELLS} cells.`);
    }
  }

  addSheet(name) {
    this.checkCells(DEFAULT_ROWS * DEFAULT_COLUMNS);
    const sheet = new FakeSheet(this, name, this.nextId++);
    this.sheets.push(sheet);
    return sheet;
  }

  getId() { return 'fake-spreadsheet-id'; }
  getSheets() { return this.sheets.slice(); }
  getSheetByName(name) { return this.sheets.find((sheet) => sheet.name === name) || null; }
  getActiveSheet() { return this.active; }

  setActiveSheet(sheet) {
    this.active = sheet;
    return sheet;
  }

  insertSheet(name) {
    this.checkWritable('Spreadsheet.insertSheet');
    let sheetName = name;
    for (let n = 1; sheetName === undefined; n++) {
      if (!this.getSheetByName(`Sheet${n}`)) sheetName = `Sheet${n}`;
    }
    if (this.getSheetByName(sheetName)) {
      throw new Error(`A sheet with the name "${sheetName}" already exists. Please enter another name.`);
    }
    const sheet = this.addSheet(sheetName);
    this.active = sheet;
    return sheet;
  }

  toast(message, title, timeoutSeconds) {
    this.checkWritable('Spreadsheet.toast');
    this.toasts.push({ message: String(message), title, timeoutSeconds });
  }
}

class FakeUi {
  constructor(mode) {
    this.mode = mode;
    this.menus = [];
    this.dialogs = [];
    this.sidebars = [];
    this.alerts = [];
    this.ButtonSet = { OK: 'OK', OK_CANCEL: 'OK_CANCEL', YES_NO: 'YES_NO', YES_NO_CANCEL: 'YES_NO_CANCEL' };
    this.Button = { OK: 'OK', CANCEL: 'CANCEL', YES: 'YES', NO: 'NO', CLOSE: 'CLOSE' };
  }

  menu(kind, name) {
    const ui = this;
    const menu = {
      kind,
      name,
      items: [],
      addItem(caption, functionName) { menu.items.push({ caption, functionName }); return menu; },
      addSeparator() { menu.items.push({ separator: true }); return menu; },
      addToUi() { ui.menus.push(menu); },
    };
    return menu;
  }

  createAddonMenu() { return this.menu('addon', null); }
  createMenu(name) { return this.menu('menu', name); }

  showModalDialog(html, title) {
    if (typeof html.getContent !== 'function') throw new Error('showModalDialog needs an HtmlOutput');
    this.dialogs.push({ html, title, modal: true });
  }

  showSidebar(html) {
    if (typeof html.getContent !== 'function') throw new Error('showSidebar needs an HtmlOutput');
    this.sidebars.push({ html, title: html.getTitle() });
  }

  alert(...args) {
    this.alerts.push(args);
    return this.Button.OK;
  }
}

/** SpreadsheetApp bound to one spreadsheet; `mode.customFunction` makes it behave as inside a cell's call. */
function createSpreadsheetApp(mode) {
  const spreadsheet = new FakeSpreadsheet(mode);
  const ui = new FakeUi(mode);
  const app = {
    CopyPasteType: {
      PASTE_NORMAL: 'PASTE_NORMAL',
      PASTE_VALUES: 'PASTE_VALUES',
      PASTE_FORMAT: 'PASTE_FORMAT',
      PASTE_FORMULA: 'PASTE_FORMULA',
    },
    getActiveSpreadsheet: () => spreadsheet,
    getActive: () => spreadsheet,
    getActiveSheet: () => spreadsheet.getActiveSheet(),
    getUi: () => {
      if (mode.customFunction) throw new Error('Cannot call SpreadsheetApp.getUi() from this context.');
      return ui;
    },
    flush: () => spreadsheet.sheets.forEach((sheet) => sheet.applyFormulas()),
  };
  return { app, spreadsheet, ui };
}

module.exports = { ChartType, createSpreadsheetApp, parseA1 };
