'use strict';
// The /v1/impact row that SCOPE3_IMPACT's arguments, or a SCOPE3_IMPACT_TABLE / batch sheet row, stand for (the
// mapping the server documents), so tests can compare the sheet's values with what POST /v1/impact gives.

const MANAGED_SERVICES = new Set(['aws-bedrock', 'azure-openai', 'google-vertex', 'openai']);

/** Adds to `row` the fields `hosting` (a managed service or a node) and `location` (country[-region] or cloud region) map to. */
function addHostingAndLocation(row, { hosting, location }) {
  if (hosting) {
    if (MANAGED_SERVICES.has(hosting)) row.managed_service_id = hosting;
    else row.node_id = hosting;
  }
  if (location) {
    const place = /^([A-Za-z]{2})(?:-([A-Za-z]{2}))?$/.exec(location);
    if (place) {
      row.country = place[1].toUpperCase();
      if (place[2]) row.region = place[2].toUpperCase();
    } else {
      row.cloud_region = location;
    }
  }
  return row;
}

/** The /v1/impact row for these fields, token counts passed through as they are. */
function impactRow({ model, input_tokens, output_tokens, task, hosting, location }) {
  const row = { model_id: model, task: task || 'text-generation', input_tokens, output_tokens };
  return addHostingAndLocation(row, { hosting, location });
}

/** The /v1/impact row for these cell values: a blank token cell is left out, any other is read as a number. */
function impactRowFromCells({ model, input_tokens, output_tokens, task, hosting, location }) {
  const row = { model_id: model, task: task || 'text-generation' };
  if (String(input_tokens).trim() !== '') row.input_tokens = Number(String(input_tokens).trim());
  if (String(output_tokens).trim() !== '') row.output_tokens = Number(String(output_tokens).trim());
  return addHostingAndLocation(row, { hosting, location });
}

module.exports = { MANAGED_SERVICES, impactRow, impactRowFromCells };
