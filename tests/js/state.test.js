'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { mod, tinyGraph } = require('./helpers.js');
const S = mod('state');

test('defaults take the node threshold from the metadata and pins from qParams', () => {
  const g = tinyGraph({ qParams: { pinnedIds: ['1_3_1', 'nope'], clickedId: '0_1_1' } });
  const st = S.defaults(g);
  assert.equal(st.displayInfluenceThreshold, 0.8);
  assert.deepEqual(Array.from(st.pinned), [2]);
  assert.equal(st.selected, 3);
  assert.equal(st.showErrors, true);
});

test('the URL hash round-trips the core state', () => {
  const g = tinyGraph();
  const st = S.defaults(g);
  Object.assign(st, { selected: 1, displayInfluenceThreshold: 0.35, minWeight: 0.123456, nodeSize: 6.5, labelDensity: 0.4,
    showErrors: false, query: 'a b&c', k: 2.5, tx: 10, ty: -4 });
  st.pinned = new Set([2, 4]);
  const hash = '#' + S.toParams(g, st).toString();
  const back = S.applyParams(S.params(hash), g, S.defaults(g));
  for (const key of ['selected', 'displayInfluenceThreshold', 'nodeSize', 'labelDensity', 'showErrors', 'query', 'k', 'tx', 'ty']) {
    assert.equal(back[key], st[key], key);
  }
  assert.ok(Math.abs(back.minWeight - st.minWeight) < 1e-4);
  assert.deepEqual(Array.from(back.pinned), [2, 4]);
});

test('malformed hash values are ignored or clamped', () => {
  const g = tinyGraph();
  const st = S.applyParams(S.params('nt=7&ns=abc&sel=%E0%A4%A&pin=,nope,1_2_0&z=0,1,2'), g, S.defaults(g));
  assert.equal(st.displayInfluenceThreshold, 1);
  assert.equal(st.nodeSize, 4);
  assert.equal(st.selected, -1);
  assert.deepEqual(Array.from(st.pinned), [1]);
  assert.equal(st.k, 1);
});

test('the edge slider is logarithmic and its inverse', () => {
  assert.equal(S.weightToSlider(0, 4), 0);
  assert.equal(S.sliderToWeight(0, 4), 0);
  assert.equal(S.weightToSlider(4, 4), 1000);
  for (const v of [1, 250, 500, 999]) assert.equal(S.weightToSlider(S.sliderToWeight(v, 4), 4), v);
});

test('defaults: qParams.pinnedIds that is not an array pins nothing (it used to throw)', () => {
  for (const pinnedIds of ['abc', { a: 1 }, 7]) {
    const st = S.defaults(tinyGraph({ qParams: { pinnedIds } }));
    assert.equal(st.pinned.size, 0, JSON.stringify(pinnedIds));
  }
});
