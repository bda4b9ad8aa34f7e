/* core.js: the viewer's constants (node kinds, default palette, budgets). Pure; loads in the page and in Node.
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
    /** Fallbacks when the payload carries no head.semantics (older payloads); Python's palette wins. */
    KIND_COLOR: ['#475569', '#0d9488', '#a8a29e', '#16a34a'],
    SUPERNODE_COLORS: ['#e11d48', '#7c3aed', '#ea580c', '#0891b2', '#65a30d', '#c026d3', '#ca8a04',
      '#4f46e5', '#059669', '#db2777', '#0284c7', '#92400e'],
    POS_RGB: '37,99,235', NEG_RGB: '220,38,38',
    LINK_BUDGET: 20000,        // links drawn at once (strongest first) in the base layer
    MOVING_LINK_BUDGET: 2500,  // links drawn while the user drags or zooms (full budget once settled)
    SETTLE_MS: 160,
    NODE_LINK_BUDGET: 4000,    // links drawn for a hovered / selected node
    ERRORS_HIDDEN_ABOVE: 50,   // error nodes start hidden when there are more than this
    MARGIN: { left: 58, right: 36, top: 12, bottom: 64 },
    GRID: 24                   // spatial-index cell size in CSS pixels
  };
  AG.core = core;
  if (typeof module !== 'undefined' && module.exports) module.exports = core;
})(typeof AG !== 'undefined' ? AG : {});
