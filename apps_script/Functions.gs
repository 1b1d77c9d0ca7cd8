/**
 * The custom functions people type into cells. They only collect arguments: Client.gs sends them, the
 * server estimates.
 */

/**
 * Energy, carbon and water of AI inferences: one row per line, in Wh, g CO2e and mL by default.
 * Give single cells for one inference or same-height columns (e.g. A2:A500) for many; a single value
 * next to columns applies to every line. Bad lines show "#ERROR <reason>", blank lines stay blank.
 *
 * @param {string|Array<Array<string>>} model Model id from the Models tab, e.g. "gpt-4o", "llama_31_8b",
 *     "claude-3-5-sonnet" (aliases and Hugging Face paths work too).
 * @param {number|Array<Array<number>>} input_tokens Prompt tokens per inference (0 or more).
 * @param {number|Array<Array<number>>} output_tokens Generated tokens per inference (0 or more).
 * @param {string|Array<Array<string>>} task Optional. Default "text-generation"; also e.g. "text-embedding",
 *     "text-to-image", "speech-to-text", "text-to-speech".
 * @param {string|Array<Array<string>>} hosting Optional. A managed service ("aws-bedrock", "azure-openai",
 *     "google-vertex", "openai"), a node id from the Nodes tab, or cloud:instance ("aws:p4d.24xlarge").
 *     Default: the model's usual service.
 * @param {string|Array<Array<string>>} location Optional. Where it ran: a country "FR", a country-region
 *     "US-NY", a cloud region "us-east-1", or a datacenter id ("aws-us-east-1", or one of your own). Default:
 *     the hosting's region.
 * @param {string} metric Optional. Which columns: blank = energy_wh, gco2e, water_ml; one name (energy_wh,
 *     gco2e, water_ml, usage_gco2e, embodied_gco2e, usage_water_ml, embodied_water_ml, inference_energy_wh,
 *     inference_gco2e, inference_water_ml, training_energy_wh, training_gco2e, training_water_ml, and the
 *     low and high of each estimate: energy_wh_low, energy_wh_high, gco2e_low, gco2e_high, water_ml_low,
 *     water_ml_high; everyday equivalences km_by_car, phone_charges, showers; the label energy_class, A-G),
 *     a comma-separated list such as "gco2e,gco2e_low,gco2e_high", or "all" for the 19 physical metrics.
 * @return {Array<Array<number|string>>} One row per line: energy in Wh, emissions in g CO2e, water in mL
 *     (or the columns metric asked for).
 * @customfunction
 */
function SCOPE3_IMPACT(model, input_tokens, output_tokens, task, hosting, location, metric) {
  return runSheetsCall_({
    fn: 'SCOPE3_IMPACT',
    metric: metric,
    args: {
      model: model,
      input_tokens: input_tokens,
      output_tokens: output_tokens,
      task: task,
      hosting: hosting,
      location: location,
    },
  }).values;
}

/**
 * Each line against an alternative: another model, hosting or place. Per metric three columns: the
 * alternative's value, the difference (alternative minus the line) and the ratio (alternative / line).
 * The line runs on its model's default hosting and place; ranges and single values as in SCOPE3_IMPACT.
 *
 * @param {string|Array<Array<string>>} model Model id of each line, e.g. "gpt-4o".
 * @param {number|Array<Array<number>>} input_tokens Prompt tokens per inference (0 or more).
 * @param {number|Array<Array<number>>} output_tokens Generated tokens per inference (0 or more).
 * @param {string|Array<Array<string>>} alt_model The alternative model; blank for the same model (to compare
 *     hosting or place only).
 * @param {string|Array<Array<string>>} alt_hosting Optional. The alternative's hosting, as SCOPE3_IMPACT's
 *     hosting. Default: the alternative model's usual service.
 * @param {string|Array<Array<string>>} alt_location Optional. The alternative's place, as SCOPE3_IMPACT's
 *     location. Default: its hosting's region.
 * @param {string} metric Optional. Which metrics to compare: blank = energy_wh (Wh), gco2e (g CO2e) and
 *     water_ml (mL); any number metric SCOPE3_IMPACT takes, or a comma-separated list of up to 6.
 * @return {Array<Array<number|string>>} One row per line: alternative, difference, ratio per metric; the ratio
 *     is blank when the line's own value is 0.
 * @customfunction
 */
function SCOPE3_COMPARE(model, input_tokens, output_tokens, alt_model, alt_hosting, alt_location, metric) {
  return runSheetsCall_({
    fn: 'SCOPE3_COMPARE',
    metric: metric,
    args: {
      model: model,
      input_tokens: input_tokens,
      output_tokens: output_tokens,
      alt_model: alt_model,
      alt_hosting: alt_hosting,
      alt_location: alt_location,
    },
  }).values;
}

/**
 * Energy, carbon and water for every row of a table whose first row names the fields; returns a header row
 * (level with the table's header) and one result row per data row, in Wh, g CO2e and mL by default.
 * Header names: model, input_tokens, output_tokens, task, hosting, location, and any /v1/impact field such as
 * input_audio_seconds, output_images ("1024x1024"), output_video_frames, output_audio_seconds.
 *
 * @param {Array<Array<string|number>>} table The table including its header row, e.g. A1:F200.
 * @param {string} metric Optional. Which columns: blank = energy_wh, gco2e, water_ml; one name (energy_wh,
 *     gco2e, water_ml, usage_gco2e, embodied_gco2e, usage_water_ml, embodied_water_ml, inference_energy_wh,
 *     inference_gco2e, inference_water_ml, training_energy_wh, training_gco2e, training_water_ml, and the
 *     low and high of each estimate: energy_wh_low, energy_wh_high, gco2e_low, gco2e_high, water_ml_low,
 *     water_ml_high; everyday equivalences km_by_car, phone_charges, showers; the label energy_class, A-G),
 *     a comma-separated list such as "gco2e,gco2e_low,gco2e_high", or "all" for the 19 physical metrics.
 * @return {Array<Array<number|string>>} The column names, then one row per data row: Wh, g CO2e, mL (or the
 *     columns metric asked for); "#ERROR <reason>" on a bad row.
 * @customfunction
 */
function SCOPE3_IMPACT_TABLE(table, metric) {
  const result = runSheetsCall_({fn: 'SCOPE3_IMPACT_TABLE', metric: metric, table: table});
  return [result.columns].concat(result.values);
}
