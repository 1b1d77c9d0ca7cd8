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

/** Evaluates every SCOPE3_* formula on the sheet and writes its result where Sheets would spill it. */
function recalculate(gas, sheet) {
  const results = [];
  for (const [key, cell] of [...sheet.cells]) {
    const call = cell.formula && parseCall(cell.formula);
    if (!call) continue;
    const [row, column] = key.split(',').map(Number);
    const values = gas.customFunction(call.name, ...call.args.map((arg) => argumentValue(sheet, arg)));
    values.forEach((cells, r) => cells.forEach((value, c) => {
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
