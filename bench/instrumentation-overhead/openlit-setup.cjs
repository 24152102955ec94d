'use strict';
// OpenLIT's set-up, shared by variant.cjs and inproc.cjs: patch `openai` (a module object) with
// its spans on the tracer provider `tp`.
const root = require('node:path').resolve(__dirname, '../..');

module.exports = function initOpenlit(tp, openai) {
  const openlit = require('openlit').default ?? require('openlit');
  const config = {
    tracer: tp,
    applicationName: 'bench',
    environment: 'bench',
    disableMetrics: true,
    disableEvents: true,
    captureMessageContent: false,
    pricingJson: {},
  };
  openlit.init({ ...config, instrumentations: { openai } });
  // openlit 1.15 skips its own config when given a tracer provider (its wrappers then throw
  // "applicationName is not set" on every call): set it as init would have.
  require(`${root}/node_modules/openlit/dist/config.js`).default.updateConfig(config);
};
