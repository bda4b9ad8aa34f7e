'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { mod, tinyGraph } = require('./helpers.js');
const jsonwriter = mod('jsonwriter');

test('node objects carry the Neuronpedia keys, with Cantor feature numbers and the edited label', () => {
  const g = tinyGraph();
  g.labels[2] = 'edited';
  const f = jsonwriter.nodeObject(g, 2);
  assert.equal(f.feature, (1 + 3) * (1 + 3 + 1) / 2 + 3);
  assert.equal(f.layer, '1');
  assert.equal(f.jsNodeId, '1_3-0');
  assert.equal(f.clerp, 'edited');
  assert.equal(f.activation, 0.25);
  const e = jsonwriter.nodeObject(g, 0);
  assert.deepEqual([e.layer, e.feature, e.jsNodeId, e.activation], ['E', 0, 'E_5-0', null]);
  const l = jsonwriter.nodeObject(g, 4);
  assert.deepEqual([l.is_target_logit, l.token_prob, l.feature_type], [true, 0.75, 'logit']);
});

test('the document holds pins, selection and supernodes, and parses as JSON', () => {
  const g = tinyGraph();
  const doc = JSON.parse(jsonwriter.documentChunks(g, { pinned: new Set([1]), selected: 2 }).join(''));
  assert.deepEqual(doc.qParams.pinnedIds, ['1_2_0']);
  assert.equal(doc.qParams.clickedId, '1_3_1');
  assert.deepEqual(doc.qParams.supernodes, [['pair', '1_2_0', '1_3_1', 'gone']]);
  assert.equal(doc.nodes.length, 5);
  assert.deepEqual(doc.links.map((l) => l.weight), [4, -3, 2, 1, 0.5]);
});
