/**
 * Recalculating every SCOPE3_* formula of the spreadsheet. Sheets runs a custom function again only when its
 * formula or its arguments change, so a cell that showed "no API URL set" keeps showing it after Settings are
 * saved, and cached numbers stay after the catalog changes. Rewriting a formula makes Sheets run it again: each
 * one is cleared, the change applied (SpreadsheetApp.flush), and the formula written back.
 */

/** Menu action: asks the backend for its catalog version, then recalculates every SCOPE3_* formula. */
function recalculateFormulas() {
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  let note = '';
  try {
    refreshCatalogVersion_();
  } catch (e) {
    // The formulas will show why (no settings, a rejected key); rewriting them is still what was asked for.
    note = ' (' + e.message + ')';
  }
  const count = rewriteScope3Formulas_();
  spreadsheet.toast(count + (count === 1 ? ' formula' : ' formulas') + ' recalculated' + note, 'Scope3', 5);
  return count;
}

/** Clears every SCOPE3_* formula of every sheet, applies that, and writes each back. Returns how many. */
function rewriteScope3Formulas_() {
  const cells = [];
  SpreadsheetApp.getActiveSpreadsheet().getSheets().forEach(function (sheet) {
    const lastRow = sheet.getLastRow();
    const lastColumn = sheet.getLastColumn();
    if (lastRow === 0 || lastColumn === 0) return;
    sheet.getRange(1, 1, lastRow, lastColumn).getFormulas().forEach(function (row, r) {
      row.forEach(function (formula, c) {
        if (/SCOPE3_/i.test(formula)) cells.push({range: sheet.getRange(r + 1, c + 1), formula: formula});
      });
    });
  });
  if (cells.length === 0) return 0;
  cells.forEach(function (cell) {
    cell.range.setFormula('');
  });
  SpreadsheetApp.flush();
  cells.forEach(function (cell) {
    cell.range.setFormula(cell.formula);
  });
  SpreadsheetApp.flush();
  return cells.length;
}
