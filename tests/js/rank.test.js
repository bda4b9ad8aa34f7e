'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { mod, tinyGraph } = require('./helpers.js');
const rank = mod('rank');
const labels = mod('labels');

test('without semantics: logits first, then by influence, NaN last', () => {
  const g = tinyGraph();
  assert.deepEqual(rank.byImportance(g, [0, 1, 2, 3, 4]), [4, 1, 3, 2, 0]);
});

test("with semantics: Python's rank decides", () => {
  const g = tinyGraph();
  g.rank = Int32Array.from([2, 4, 0, 1, 3]);
  assert.deepEqual(rank.byImportance(g, [0, 1, 2, 3, 4]), [2, 3, 0, 4, 1]);
});

test('search matches ids and display labels among visible nodes, case-insensitively', () => {
  const g = tinyGraph();
  assert.deepEqual(rank.search(g, null, 'CAPITAL'), [1]);
  assert.deepEqual(rank.search(g, null, 'BOS'), [0]);  // an embedding shows its token
  assert.deepEqual(rank.search(g, Uint8Array.from([1, 0, 1, 1, 1]), 'capital'), []);
  assert.deepEqual(rank.search(g, null, '  '), []);
});

test('display labels: the label, else one made from the node', () => {
  const g = tinyGraph();
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => labels.displayLabel(g, i)),
    ['<bos>', 'capital', 'L1/3', 'Error L0 @1', 'Output " Austin" (p=0.75)']);
  assert.equal(labels.layerName(g, 4), 'Logits');
  labels.setLabel(g, 2, 'edited');
  assert.equal(labels.displayLabel(g, 2), 'edited');
});

test('display labels from semantics follow an edit, and fall back when it is cleared', () => {
  const g = tinyGraph();
  g.display = ['e', 'capital', 'f2', 'err', 'out'];
  assert.equal(labels.displayLabel(g, 2), 'f2');
  labels.setLabel(g, 2, 'mine');
  assert.equal(labels.displayLabel(g, 2), 'mine');
  labels.setLabel(g, 2, 'two\nlines\x01');
  assert.equal(labels.displayLabel(g, 2), 'two lines\uFFFD');  // cleaned as report/text.py clean_text
  labels.setLabel(g, 2, '');
  assert.equal(labels.displayLabel(g, 2), 'L1/3');
});

test('probabilities are written as Python writes them (.2g, .1e below 0.01)', () => {
  assert.deepEqual([0.75, 0.5, 1, 0.123, 0.05, 0, 0.005, 0.00012].map(labels.probText),
    ['0.75', '0.5', '1', '0.12', '0.05', '0', '5.0e-03', '1.2e-04']);
});
