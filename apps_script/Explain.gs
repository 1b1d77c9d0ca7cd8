/**
 * "Explain this estimate": a sidebar for the selected cell of a SCOPE3_ result. It finds the formula that
 * spilled the cell, reads that line's arguments (cell references and literals), and asks the server once
 * (POST /v1/sheets/explain) what the line's figures are made of.
 */

const SCOPE3_EXPLAIN_TITLE_ = 'Scope3: explain this estimate';

/** Menu action: opens the sidebar; it calls explainSelection() itself. */
function showExplain() {
  SpreadsheetApp.getUi().showSidebar(HtmlService.createHtmlOutputFromFile('ExplainSidebar').setTitle(SCOPE3_EXPLAIN_TITLE_));
}

/**
 * The explanation of the selected cell: the server's answer for its line, and the cell (A1 notation, its value,
 * the result column it is in, which side it explains, the formula's cell). The cell is a SCOPE3_ result, or a cell
 * of a usage row such a formula reads (that row's line). Throws a readable Error otherwise.
 *
 * @return {{cell: {a1: string, value: *, column: (string|null), side: string, formula: string}, explanation: Object}}
 */
function explainSelection() {
  const sheet = SpreadsheetApp.getActiveSheet();
  const cell = sheet.getActiveCell();
  // A blank cell below or beside a spill is not a result (the spill block reaches to the next formula).
  const blank = cell.getValue() === '' && cell.getFormula() === '';
  // The sheet's formulas, read once, down and right to the selected cell at least.
  const formulas = sheet.getRange(1, 1, Math.max(sheet.getLastRow(), cell.getRow()),
    Math.max(sheet.getLastColumn(), cell.getColumn())).getFormulas();
  let found = blank ? null : findSpillingFormula_(formulas, cell.getRow() - 1, cell.getColumn() - 1);
  let line;
  let offset = null;
  let side = null;
  if (found !== null) {
    line = cell.getRow() - 1 - found.row;
    offset = cell.getColumn() - 1 - found.column;
  } else {
    // A cell of the usage itself: the line of a formula whose arguments reference that row.
    found = findFormulaReading_(sheet, formulas, cell.getRow(), cell.getColumn());
    if (found === null) {
      throw new Error('Scope3: select a cell filled by =SCOPE3_IMPACT, =SCOPE3_IMPACT_TABLE or =SCOPE3_COMPARE, ' +
        'or a row of the usage such a formula reads');
    }
    line = found.line;
    side = 'row';
  }
  const call = parseScope3Call_(found.formula);
  const body = explainBody_(sheet, call, line);
  const response = fetchApi_('/v1/sheets/explain', {
    method: 'post',
    contentType: 'application/json',
    payload: JSON.stringify(body.request),
  });
  const explanation = readJson_(response);
  const columns = explanation.columns || [];
  let column = null;
  if (offset !== null) column = body.compare ? (columns[Math.floor(offset / 3)] || null) : (columns[offset] || null);
  return {
    cell: {
      a1: cell.getA1Notation(),
      value: cell.getValue(),
      column: column,
      side: side || body.side,
      formula: sheet.getRange(found.row + 1, found.column + 1).getA1Notation(),
    },
    explanation: explanation,
  };
}

/**
 * The SCOPE3_ formula of this sheet (its `formulas`) one of whose range arguments on this sheet holds the cell at
 * (row, column) (1-based), with the cell's line in it; null when none does. A table's header row is no line.
 */
function findFormulaReading_(sheet, formulas, row, column) {
  for (let r = 0; r < formulas.length; r++) {
    for (let c = 0; c < formulas[r].length; c++) {
      if (!/^=\s*SCOPE3_/i.test(formulas[r][c])) continue;
      const call = parseScope3Call_(formulas[r][c]);
      const ranged = call.name === 'SCOPE3_IMPACT_TABLE' ? call.args.slice(0, 1) : call.args;
      for (let i = 0; i < ranged.length; i++) {
        const reference = parseReference_(ranged[i]);
        if (reference === null || reference.sheetName !== undefined) continue; // this sheet's ranges only
        const range = sheet.getRange(reference.a1);
        const inside = row >= range.getRow() && row <= range.getLastRow() &&
          column >= range.getColumn() && column <= range.getLastColumn();
        if (inside && range.getNumRows() > 1) {
          return {row: r, column: c, formula: formulas[r][c], line: row - range.getRow()};
        }
      }
    }
  }
  return null;
}

/**
 * The SCOPE3_ formula whose spilled block holds the cell at (r, c) (0-based) of the sheet's `formulas`, nearest
 * first: the cell's own formula, else one above it in its column or in a column to its left.
 */
function findSpillingFormula_(formulas, r, c) {
  const firstColumn = Math.max(0, c - SCOPE3_MAX_RESULT_COLUMNS_ + 1);
  for (let column = c; column >= firstColumn; column--) {
    for (let row = r; row >= 0; row--) {
      const formula = formulas[row][column];
      if (formula === '') continue;
      if (!/^=\s*SCOPE3_/i.test(formula)) break; // another formula: nothing above it spills down to here
      const block = spillBlock_(formulas, row, column);
      if (r < block.row + block.height && c < block.column + block.width) {
        return {row: row, column: column, formula: formula};
      }
      break;
    }
  }
  return null;
}

/** `=NAME(arg, …)` as {name, args}: each argument's text, split at the commas outside quotes and brackets. */
function parseScope3Call_(formula) {
  const match = /^=\s*(SCOPE3_[A-Z_]+)\s*\(([\s\S]*)\)\s*$/i.exec(formula);
  if (!match) throw new Error('Scope3: cannot read the formula ' + formula);
  const args = [];
  let current = '';
  let quoted = false;
  let depth = 0;
  for (const ch of match[2]) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && (ch === '(' || ch === '{')) depth++;
    if (!quoted && (ch === ')' || ch === '}')) depth--;
    if (ch === ',' && !quoted && depth === 0) {
      args.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  args.push(current.trim());
  return {name: match[1].toUpperCase(), args: args};
}

/**
 * What one formula argument holds for one line: a literal, or the line's cell of a referenced range (a one-cell
 * range applies to every line). `undefined` for an omitted argument.
 */
function argumentAt_(sheet, text, line, position) {
  if (text === undefined || text === '') return undefined;
  if (/^"[\s\S]*"$/.test(text)) return text.slice(1, -1).replace(/""/g, '"');
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (/^(TRUE|FALSE)$/i.test(text)) return text.toUpperCase() === 'TRUE';
  const values = referencedValues_(sheet, text, position);
  if (values.length === 1) return values[0][0];
  if (line >= values.length) throw new Error('Scope3: argument ' + position + ' (' + text + ') has no row ' + (line + 1));
  return values[line][0];
}

/**
 * A formula argument as a reference: A2:A500, $B$2, Usage!C2:C9 or 'My usage'!C2:C9 as {sheetName (undefined for
 * the formula's own sheet), a1 (without $)}; null for anything else.
 */
function parseReference_(text) {
  const match = /^(?:(?:'((?:[^']|'')+)'|([A-Za-z0-9_.]+))!)?(\$?[A-Za-z]+\$?\d+(?::\$?[A-Za-z]+\$?\d+)?)$/.exec(text || '');
  if (!match) return null;
  return {sheetName: match[1] !== undefined ? match[1].replace(/''/g, "'") : match[2], a1: match[3].replace(/\$/g, '')};
}

/** The values of an argument that is a reference (parseReference_), read from its sheet. */
function referencedValues_(sheet, text, position) {
  const reference = parseReference_(text);
  if (reference === null) {
    throw new Error('Scope3: explain reads cell references and literals; argument ' + position + ' is ' + text);
  }
  const target = reference.sheetName === undefined ? sheet : sheet.getParent().getSheetByName(reference.sheetName);
  if (target === null) throw new Error('Scope3: no sheet named ' + reference.sheetName);
  return target.getRange(reference.a1).getValues();
}

/**
 * The explain request for a line of a call, and which side it explains. A comparison is explained on its
 * alternative's side, the value its cells show.
 */
function explainBody_(sheet, call, line) {
  const at = function (index) {
    return argumentAt_(sheet, call.args[index], line, index + 1);
  };
  if (call.name === 'SCOPE3_IMPACT_TABLE') {
    if (line === 0) throw new Error('Scope3: that is the header row; select a result below it');
    const table = referencedValues_(sheet, call.args[0], 1);
    if (line >= table.length) throw new Error('Scope3: the table has no row ' + (line + 1));
    return {
      request: {function: call.name, table: [table[0], table[line]], metric: at(1)},
      compare: false,
      side: 'line',
    };
  }
  if (call.name === 'SCOPE3_COMPARE') {
    const model = at(0);
    const alternative = at(3);
    const args = {
      model: alternative === undefined || alternative === '' ? model : alternative,
      input_tokens: at(1),
      output_tokens: at(2),
      hosting: at(4),
      location: at(5),
    };
    return {request: {function: 'SCOPE3_IMPACT', args: args, metric: at(6)}, compare: true, side: 'alternative'};
  }
  const args = {};
  SCOPE3_IMPACT_ARGS_.forEach(function (name, index) {
    const value = at(index);
    if (value !== undefined) args[name] = value;
  });
  return {request: {function: 'SCOPE3_IMPACT', args: args, metric: at(6)}, compare: false, side: 'line'};
}
