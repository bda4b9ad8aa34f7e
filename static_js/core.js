/* core.js: the viewer's constants (node kinds, drawing budgets; the palette and the report's limits come
 * with the payload, from report/semantics.py). Pure; loads in the page and in Node.
 *
 * Every viewer module is an IIFE taking the shared namespace `AG` (in the page: one object created by the
 * wrapper that report/html.py puts around the concatenated modules; in Node: a fresh object, with the
 * module's dependencies taken from require()).
 */
(function (AG) {
  'use strict';
  var core = {
    KIND_EMB: 0, KIND_FEAT: 1, KIND_ERR: 2, KIND_LOGIT: 3,
    KIND_NAME: ['embedding', 'feature', 'error', 'logit'],
    LINK_BUDGET: 20000,        // links drawn at once (strongest first) in the base layer
    MOVING_LINK_BUDGET: 2500,  // links drawn while the user drags or zooms (full budget once settled)
    SETTLE_MS: 160,
    NODE_LINK_BUDGET: 4000,    // links drawn for a hovered / selected node
    MARGIN: { left: 58, right: 36, top: 12, bottom: 64 },
    GRID: 24                   // spatial-index cell size in CSS pixels
  };
  AG.core = core;
  if (typeof module !== 'undefined' && module.exports) module.exports = core;
})(typeof AG !== 'undefined' ? AG : {});
