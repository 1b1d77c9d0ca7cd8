/**
 * "Insert summary": a tab that totals the active sheet's SCOPE3_ results by model, by month and by place, as
 * QUERY formulas over the usage sheet (so it stays live as rows change), with native charts. Running it again
 * rewrites the same tab, its charts included: never a second one.
 */

// The totals the summary adds up, as SCOPE3_IMPACT names its columns (its default three).
const SCOPE3_SUMMARY_METRICS_ = ['energy_wh', 'gco2e', 'water_ml'];
const SCOPE3_SUMMARY_SUFFIX_ = ' summary';
// Header names read as a line's date, and as its place, in the usage table (case and spaces ignored).
const SCOPE3_DATE_HEADERS_ = ['utc_datetime', 'date', 'day', 'month', 'time', 'timestamp', 'request_time'];
const SCOPE3_PLACE_HEADERS_ = ['location', 'country', 'region', 'cloud_region', 'datacenter_id'];
// Where each section starts on the summary tab (1-based columns), and where the charts go.
const SCOPE3_SUMMARY_SECTIONS_ = {model: 1, month: 6, place: 11};
const SCOPE3_SUMMARY_CHART_COLUMN_ = 16;

/** Menu action: builds (or rebuilds) "<sheet> summary" from the active sheet's first SCOPE3_IMPACT formula. */
function insertSummary() {
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  let source = spreadsheet.getActiveSheet();
  if (source.getName().endsWith(SCOPE3_SUMMARY_SUFFIX_)) {
    const named = spreadsheet.getSheetByName(source.getName().slice(0, -SCOPE3_SUMMARY_SUFFIX_.length));
    if (named !== null) source = named; // run from the summary itself: rebuild it from its usage sheet
  }
  let plan;
  try {
    plan = summaryPlan_(source);
  } catch (e) {
    SpreadsheetApp.getUi().alert('Scope3 summary', e.message, SpreadsheetApp.getUi().ButtonSet.OK);
    return null;
  }
  const name = source.getName() + SCOPE3_SUMMARY_SUFFIX_;
  const summary = spreadsheet.getSheetByName(name) || spreadsheet.insertSheet(name);
  summary.clearContents();
  summary.getCharts().forEach(function (chart) {
    summary.removeChart(chart);
  });
  const written = writeSummary_(summary, source, plan);
  spreadsheet.setActiveSheet(summary);
  spreadsheet.toast('Summary of "' + source.getName() + '" in "' + name + '"', 'Scope3', 5);
  return written;
}

/**
 * Where the usage sheet's lines and results are: the data rows, the model, date and place columns, and the
 * result column of each summed metric (1-based columns; date and place may be null).
 */
function summaryPlan_(sheet) {
  const lastRow = sheet.getLastRow();
  const lastColumn = sheet.getLastColumn();
  if (lastRow === 0 || lastColumn === 0) throw new Error('Scope3: this sheet is empty: select the sheet with your usage and its SCOPE3_IMPACT formula');
  const formulas = sheet.getRange(1, 1, lastRow, lastColumn).getFormulas();
  let at = null;
  for (let r = 0; r < formulas.length && at === null; r++) {
    for (let c = 0; c < formulas[r].length; c++) {
      if (/^=\s*SCOPE3_IMPACT(_TABLE)?\s*\(/i.test(formulas[r][c])) {
        at = {row: r + 1, column: c + 1, formula: formulas[r][c], a1: sheet.getRange(r + 1, c + 1).getA1Notation()};
        break;
      }
    }
  }
  if (at === null) throw new Error('Scope3: no SCOPE3_IMPACT or SCOPE3_IMPACT_TABLE formula on "' + sheet.getName() + '" to summarise');
  const call = parseScope3Call_(at.formula);
  const table = call.name === 'SCOPE3_IMPACT_TABLE';
  const metricText = call.args[table ? 1 : 6];
  const metrics = summaryMetricColumns_(metricText, at);
  let first;
  let last;
  let headerRow;
  let modelColumn;
  let placeColumn = null;
  if (table) {
    const range = sameSheetRange_(sheet, call.args[0], 'the table');
    first = range.getRow() + 1;
    last = range.getLastRow();
    headerRow = range.getRow();
    modelColumn = headerColumn_(sheet, headerRow, range.getColumn(), range.getLastColumn(), ['model', 'model_id']);
    if (modelColumn === null) throw new Error('Scope3: the table has no model column');
  } else {
    const models = sameSheetRange_(sheet, call.args[0], 'the model argument');
    first = models.getRow();
    last = models.getLastRow();
    headerRow = first - 1;
    modelColumn = models.getColumn();
    if (call.args[5]) placeColumn = sameSheetRange_(sheet, call.args[5], 'the location argument').getColumn();
  }
  if (last <= first) throw new Error('Scope3: the formula covers fewer than two lines: nothing to summarise');
  const resultFirst = table ? at.row + 1 : at.row;
  if (resultFirst !== first) {
    throw new Error('Scope3: the results at ' + at.a1 + ' are not level with the usage rows ' + first + ' to ' + last);
  }
  const dateColumn = headerRow >= 1 ? headerColumn_(sheet, headerRow, 1, lastColumn, SCOPE3_DATE_HEADERS_) : null;
  if (placeColumn === null && headerRow >= 1) placeColumn = headerColumn_(sheet, headerRow, 1, lastColumn, SCOPE3_PLACE_HEADERS_);
  return {
    first: first,
    last: last,
    model: modelColumn,
    date: dateColumn,
    place: placeColumn,
    metrics: metrics.map(function (m) {
      return {name: m.name, column: at.column + m.offset};
    }),
  };
}

/** The summed metrics and their offsets in the formula's spill, from its metric argument. */
function summaryMetricColumns_(text, at) {
  let names = SCOPE3_SUMMARY_METRICS_;
  if (text !== undefined && text !== '') {
    if (!/^"[^"]*"$/.test(text)) throw new Error('Scope3: the metric of the formula at ' + at.a1 + ' must be written in the formula ("gco2e") to be summarised');
    const asked = text.slice(1, -1).split(',').map(function (part) {
      return part.trim().toLowerCase();
    });
    names = asked.length === 1 && asked[0] === 'all' ? SCOPE3_SUMMARY_METRICS_ : asked;
  }
  const found = [];
  SCOPE3_SUMMARY_METRICS_.forEach(function (name) {
    const offset = names.indexOf(name);
    if (offset >= 0) found.push({name: name, offset: offset});
  });
  if (found.length === 0) throw new Error('Scope3: the formula at ' + at.a1 + ' shows none of energy_wh, gco2e, water_ml to add up');
  return found;
}

/** A reference of the formula as a range of the same sheet (a summary of another sheet's rows would mislead). */
function sameSheetRange_(sheet, text, what) {
  const reference = parseReference_(text);
  if (reference === null || reference.sheetName !== undefined) {
    throw new Error('Scope3: ' + what + ' of the formula must be a range of this sheet, such as A2:A500 (it is ' + (text || 'blank') + ')');
  }
  return sheet.getRange(reference.a1);
}

/** The 1-based column in a header row whose name is one of `names` (case, spaces and dashes ignored), or null. */
function headerColumn_(sheet, row, firstColumn, lastColumn, names) {
  const header = sheet.getRange(row, firstColumn, 1, lastColumn - firstColumn + 1).getValues()[0];
  for (let i = 0; i < header.length; i++) {
    const name = String(header[i]).trim().toLowerCase().replace(/[\s-]+/g, '_');
    if (names.indexOf(name) >= 0) return firstColumn + i;
  }
  return null;
}

/** `'Sheet name'!A2:A500`: a source column over the data rows, the sheet name quoted as formulas need it. */
function sourceColumn_(source, plan, column) {
  const name = "'" + source.getName().replace(/'/g, "''") + "'";
  return name + '!' + source.getRange(plan.first, column, plan.last - plan.first + 1, 1).getA1Notation();
}

/**
 * The QUERY that totals the metrics by one key: `key` is the formula of the key column (a range, or an
 * ARRAYFORMULA over one), `label` its header; rows whose key is blank are left out.
 */
function totalsQuery_(source, plan, key, label, order) {
  const columns = [key].concat(plan.metrics.map(function (m) {
    return sourceColumn_(source, plan, m.column);
  }));
  const sums = plan.metrics.map(function (m, i) {
    return 'sum(Col' + (i + 2) + ')';
  });
  const labels = ["Col1 '" + label + "'"].concat(plan.metrics.map(function (m, i) {
    return sums[i] + " '" + m.name + "'";
  }));
  const query = 'select Col1, ' + sums.join(', ') + " where Col1 <> '' group by Col1 order by " + order(sums) +
    ' label ' + labels.join(', ');
  return '=QUERY({' + columns.join(', ') + '}, "' + query + '", 0)';
}

/** Writes the sections and charts; returns what it wrote (the formulas by section, the charts' specs). */
function writeSummary_(summary, source, plan) {
  const lines = plan.last - plan.first + 1;
  const emissions = plan.metrics.findIndex(function (m) {
    return m.name === 'gco2e';
  });
  const sortBy = function (sums) {
    return (emissions >= 0 ? sums[emissions] : sums[0]) + ' desc';
  };
  const sections = [
    {key: 'model', title: 'By model', formula: totalsQuery_(source, plan, sourceColumn_(source, plan, plan.model), 'model', sortBy)},
    {
      key: 'month',
      title: 'By month',
      formula: plan.date === null ? null : totalsQuery_(
        source, plan,
        'ARRAYFORMULA(IF(' + sourceColumn_(source, plan, plan.date) + '="", "", TEXT(' + sourceColumn_(source, plan, plan.date) + ', "yyyy-mm")))',
        'month',
        function () {
          return 'Col1';
        }),
      missing: 'no date column (head one utc_datetime or date)',
    },
    {
      key: 'place',
      title: 'By place',
      formula: plan.place === null ? null : totalsQuery_(source, plan, sourceColumn_(source, plan, plan.place), 'place', sortBy),
      missing: 'no place column (head one location or country, or give SCOPE3_IMPACT a location range)',
    },
  ];
  summary.getRange(1, 1).setValue('Scope3 summary of "' + source.getName() + '", rows ' + plan.first + '-' + plan.last +
    ' (live: these formulas total the sheet\'s SCOPE3 results)');
  summary.getRange(1, 1).setFontWeight('bold');
  const formulas = {};
  sections.forEach(function (section) {
    const column = SCOPE3_SUMMARY_SECTIONS_[section.key];
    summary.getRange(3, column).setValue(section.title);
    summary.getRange(3, column).setFontWeight('bold');
    if (section.formula === null) {
      summary.getRange(4, column).setValue(section.missing);
    } else {
      summary.getRange(4, column).setFormula(section.formula);
    }
    formulas[section.key] = section.formula;
  });
  // Charts over the QUERY outputs: a header row, then at most one row per usage line.
  const charts = [];
  const metricColumn = (emissions >= 0 ? emissions : 0) + 1; // the plotted metric's offset after the key column
  const plotted = plan.metrics[metricColumn - 1].name;
  const chart = function (section, pie, title, row) {
    const column = SCOPE3_SUMMARY_SECTIONS_[section];
    const builder = pie ? summary.newChart().asPieChart() : summary.newChart().asColumnChart();
    const built = builder
      .addRange(summary.getRange(4, column, lines + 1, 1))
      .addRange(summary.getRange(4, column + metricColumn, lines + 1, 1))
      .setNumHeaders(1)
      .setPosition(row, SCOPE3_SUMMARY_CHART_COLUMN_, 0, 0)
      .setOption('title', title)
      .build();
    summary.insertChart(built);
    charts.push({section: section, title: title});
  };
  chart('model', true, 'Share of ' + plotted + ' by model', 3);
  if (formulas.month !== null) chart('month', false, plotted + ' by month', 22);
  return {sheet: summary.getName(), formulas: formulas, charts: charts};
}
