/* Shared fixtures for the viewer's Node unit tests: a small graph model built the way decode.js builds it. */
'use strict';
const path = require('node:path');

const STATIC = path.resolve(__dirname, '..', '..', 'static_js');
/** require() a viewer module by its name in static_js/ ("format", "decode", ...). */
function mod(name) { return require(path.join(STATIC, name + '.js')); }

/** What report/semantics.py computes for the tiny graph below (as_payload): display labels, colours by kind,
 *  rank (influence ascending, NaN last; then |activation|, then probability), thresholds, palette. */
const PALETTE = {
  embedding: '#475569', feature: '#0d9488', error: '#a8a29e', logit: '#16a34a', positive: '#2563eb', negative: '#dc2626',
  supernodes: ['#e11d48', '#7c3aed', '#ea580c', '#0891b2', '#65a30d', '#c026d3', '#ca8a04', '#4f46e5', '#059669', '#db2777',
    '#0284c7', '#92400e'],
  series: ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563']
};
function tinySemantics() {
  return {
    display: ['<bos>', 'capital', 'L1/3', 'Error L0 @1', 'Output " Austin" (p=0.75)'], short: { 4: ' Austin' },
    palette: PALETTE, color: ['#475569', '#0d9488', '#0d9488', '#a8a29e', '#16a34a'], rank: [4, 0, 2, 1, 3],
    featureKey: [null, null, null, null, null], density: [null, null, null, null, null], dense: [false, false, false, false, false],
    thresholds: { displayInfluenceThreshold: 0.8, minWeight: 0, maxEdges: 1000, subgraphMaxEdges: 400, figureLabels: 24, logitLabels: 6,
      topNodes: 20, detailExamples: 3, labelDensity: 1, errorsHiddenAbove: 50, maxDensity: 0.25 },
    limits: { label: 2000 }
  };
}

/** A head + columns for 5 nodes (emb, 2 features, error, logit) and 5 links sorted by |w|. */
function tinyPayload(extra = {}) {
  const head = {
    version: 1, title: 't', metadata: { slug: 's', schema_version: 1, node_threshold: 0.8 },
    qParams: { supernodes: [['pair', '1_2_0', '1_3_1', 'gone']] }, extra: {},
    tokens: ['<bos>', ' Dallas\n'],
    nodes: {
      n: 5, ids: ['E_5_0', '1_2_0', '1_3_1', '0_1_1', '27_99_1'], labels: ['', 'capital', '', '', ''],
      featureType: { table: ['embedding', 'cross layer transcoder', 'mlp reconstruction error', 'logit'], idx: [0, 1, 1, 2, 3] },
      logitToken: ['', '', '', '', ' Austin'], extra: {}
    },
    links: { m: 5, extra: {} },
    layout: { rowLabels: ['Emb', 'L0', 'L1', 'Logits'], columnLeft: [0, 1], columnWidth: [1, 2], width: 3, height: 4 },
    semantics: tinySemantics(), views: { labels: null, supernodes: null, interventions: [], history: [] },
    ...extra
  };
  const cols = {
    kind: Int8Array.from([0, 1, 1, 2, 3]), layer: Int32Array.from([0, 1, 1, 0, 27]), pos: Int32Array.from([0, 0, 1, 1, 1]),
    row: Int32Array.from([0, 2, 2, 1, 3]), feature: Float64Array.from([5, 2, 3, -1, 99]),
    activation: Float64Array.from([NaN, 1.5, 0.25, NaN, NaN]), influence: Float64Array.from([NaN, 0.2, 0.9, 0.5, NaN]),
    prob: Float64Array.from([NaN, NaN, NaN, NaN, 0.75]), x: Float32Array.from([0, 0.5, 1.5, 1.2, 1.5]),
    y: Float32Array.from([3.5, 1.5, 1.5, 2.5, 0.5]),
    src: Uint16Array.from([0, 1, 2, 3, 0]), tgt: Uint16Array.from([1, 4, 4, 4, 2]), w: Float32Array.from([4, -3, 2, 1, 0.5])
  };
  return { head, cols };
}

function tinyGraph(extra) {
  const { head, cols } = tinyPayload(extra);
  return mod('decode').buildGraph(head, cols);
}

module.exports = { STATIC, PALETTE, mod, tinySemantics, tinyPayload, tinyGraph };
