'use strict';
// Plays Sheets' part for SCOPE3_* formulas in the fake spreadsheet: reads each formula's arguments (A1
// ranges, quoted text, numbers), calls the custom function as a cell would, and spills the result.

const { parseA1 } = require('./fakeSpreadsheet');

function splitArguments(text) {
  const args = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      args.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim() !== '') args.push(current.trim());
  return args;
}

/** The values a formula argument stands for, as Sheets hands them to a custom function. */
function argumentValue(sheet, text) {
  if (/^".*"$/.test(text)) return text.slice(1, -1).replace(/""/g, '"');
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  const at = parseA1(text);
  const values = sheet.getRange(at.row, at.column, at.numRows, at.numColumns).getValues();
  return at.numRows === 1 && at.numColumns === 1 ? values[0][0] : values;
}

/** Parses `=NAME(arg, ...)`; null for any other formula. */
function parseCall(formula) {
  const match = /^=\s*(SCOPE3_[A-Z_]+)\s*\((.*)\)\s*$/i.exec(formula);
  return match ? { name: match[1].toUpperCase(), args: splitArguments(match[2]) } : null;
}

/**
 * Evaluates SCOPE3_* formulas on the sheet and writes each result where Sheets would spill it: every formula, or
 * with `onlyChanged` only those Sheets would run again, as it does on its own: a formula whose text, as applied
 * (at a flush or a script's end), changed, or whose arguments' values changed, since its last run.
 */
function recalculate(gas, sheet, { onlyChanged = false } = {}) {
  sheet.applyFormulas();
  const results = [];
  for (const [key, cell] of [...sheet.cells]) {
    const call = cell.formula && parseCall(cell.formula);
    if (!call) continue;
    const [row, column] = key.split(',').map(Number);
    const args = call.args.map((arg) => argumentValue(sheet, arg));
    const argsText = JSON.stringify(args);
    if (onlyChanged && !sheet.changedFormulas.has(key) && sheet.lastArguments.get(key) === argsText) continue;
    sheet.changedFormulas.delete(key);
    sheet.lastArguments.set(key, argsText);
    let values;
    try {
      values = gas.customFunction(call.name, ...args);
    } catch (error) {
      if (error.name === 'SheetsResultError') throw error; // the code under test broke Sheets' rules: fail
      // A thrown Error shows as #ERROR! with its message on hover, and spills nothing.
      for (const [other, spilled] of [...sheet.cells]) if (spilled.spilledFrom === key) sheet.cells.delete(other);
      sheet.put(row, column, { value: '#ERROR!', formula: cell.formula, error: error.message });
      results.push({ row, column, call, error: error.message });
      continue;
    }
    for (const [other, spilled] of [...sheet.cells]) if (spilled.spilledFrom === key) sheet.cells.delete(other);
    const grid = Array.isArray(values) ? values : [[values]];
    grid.forEach((cells, r) => cells.forEach((value, c) => {
      const target = sheet.cell(row + r, column + c);
      if ((r > 0 || c > 0) && target && (target.formula || target.value !== '')) {
        throw new Error(`#REF! Array result was not expanded because it would overwrite data in row ${row + r}`);
      }
      if (r === 0 && c === 0) sheet.put(row, column, { value, formula: cell.formula });
      else sheet.put(row + r, column + c, { value, formula: '', spilledFrom: key });
    }));
    results.push({ row, column, call, values });
  }
  return results;
}

module.exports = { recalculate };
