'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { mod } = require('./helpers.js');
const registry = mod('registry');

test('panels are ordered, instantiated per viewer, notified and asked for their state', () => {
  const seen = [];
  registry.registerPanel({ name: 'b', order: 20, mount() {}, update(st, ctx, changed) { seen.push(['b', [...changed]]); },
    state() { return { bCount: this.count || 0 }; } });
  registry.registerPanel({ name: 'a', order: 10, mount() {}, update() { this.count = (this.count || 0) + 1; seen.push(['a']); } });
  assert.deepEqual(registry.panels().map((p) => p.name), ['a', 'b']);
  const one = registry.instantiate(), two = registry.instantiate();
  registry.notify(one, {}, {}, new Set(['filters']));
  assert.deepEqual(seen, [['a'], ['b', ['filters']]]);
  assert.equal(one[0].count, 1);
  assert.equal(two[0].count, undefined);  // each viewer has its own panel state
  assert.deepEqual(registry.collectState(one, {}), { bCount: 0 });
});

test('a panel without a name, mount or update, or registered twice, is refused', () => {
  assert.throws(() => registry.registerPanel({ mount() {}, update() {} }), /name/);
  assert.throws(() => registry.registerPanel({ name: 'c', update() {} }), /mount/);
  assert.throws(() => registry.registerPanel({ name: 'a', mount() {}, update() {} }), /twice/);
});
