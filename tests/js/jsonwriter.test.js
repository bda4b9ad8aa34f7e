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

test('extra keys named like Object.prototype members survive the download (issue 9)', () => {
  const g = tinyGraph();
  // what JSON.parse makes of the head: own properties, `__proto__` included
  g.nodeExtra = JSON.parse('{"1": {"__proto__": {"x": 1}, "constructor": "c", "hasOwnProperty": 2}}');
  g.linkExtra = JSON.parse('{"0": {"constructor": 1, "toString": "t", "valueOf": [2]}, "1": {"__proto__": 3}}');
  g.qParams = JSON.parse('{"__proto__": "q", "linkType": "both"}');
  g.meta = JSON.parse('{"__proto__": "m", "schema_version": 1}');
  const doc = JSON.parse(jsonwriter.documentChunks(g, { pinned: new Set(), selected: -1 }).join(''));
  const node = doc.nodes[1];
  assert.ok(Object.prototype.hasOwnProperty.call(node, '__proto__'));
  assert.deepEqual(node['__proto__'], { x: 1 });
  assert.equal(node.constructor, 'c');
  assert.equal(node.hasOwnProperty, 2);
  assert.deepEqual([doc.links[0].constructor, doc.links[0].toString, doc.links[0].valueOf], [1, 't', [2]]);
  assert.equal(doc.links[1]['__proto__'], 3);
  assert.ok(Object.prototype.hasOwnProperty.call(doc.qParams, '__proto__'));
  assert.ok(Object.prototype.hasOwnProperty.call(doc.metadata, '__proto__'));
  assert.equal(doc.nodes[2].constructor, Object);  // nodes without extras gain nothing
});
