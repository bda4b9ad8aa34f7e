'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { mod, tinyGraph } = require('./helpers.js');
const rank = mod('rank');
const labels = mod('labels');

test("Python's rank (head.semantics.rank) decides the order", () => {
  const g = tinyGraph();
  assert.deepEqual(rank.byImportance(g, [0, 1, 2, 3, 4]), [1, 3, 2, 4, 0]);
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

test('display labels: Python\'s, following an edit, and the fallback when it is cleared', () => {
  const g = tinyGraph();
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => labels.displayLabel(g, i)),
    ['<bos>', 'capital', 'L1/3', 'Error L0 @1', 'Output " Austin" (p=0.75)']);
  assert.equal(labels.layerName(g, 4), 'Logits');
  labels.setLabel(g, 2, 'mine');
  assert.equal(labels.displayLabel(g, 2), 'mine');
  labels.setLabel(g, 2, 'two\nlines\x01');
  assert.equal(labels.displayLabel(g, 2), 'two lines\uFFFD');  // cleaned as report/text.py clean_text
  labels.setLabel(g, 2, 'x'.repeat(5000));
  assert.equal(labels.displayLabel(g, 2).length, 2000);  // cut as attrgraph_cli/clip.py clip, MAX_LABEL
  labels.setLabel(g, 2, '');
  assert.equal(labels.displayLabel(g, 2), 'L1/3');
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => labels.fallbackLabel(g, i)),
    ['<bos>', 'L1/2', 'L1/3', 'Error L0 @1', 'Output " Austin" (p=0.75)']);
});

test('probabilities are written as Python writes them (.2g, .1e below 0.01)', () => {
  assert.deepEqual([0.75, 0.5, 1, 0.123, 0.05, 0, 0.005, 0.00012].map(labels.probText),
    ['0.75', '0.5', '1', '0.12', '0.05', '0', '5.0e-03', '1.2e-04']);
});
