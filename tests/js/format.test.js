'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { mod } = require('./helpers.js');
const format = mod('format');

test('fmt: fixed, scientific for tiny and huge, dash for missing', () => {
  assert.equal(format.fmt(0.5), '0.500');
  assert.equal(format.fmt(0.5, 1), '0.5');
  assert.equal(format.fmt(0), '0.000');
  assert.equal(format.fmt(1e-6), '1.00e-6');
  assert.equal(format.fmt(-2e6), '-2.00e+6');
  assert.equal(format.fmt(NaN), '—');
  assert.equal(format.fmt(null), '—');
});

test('xmlEscape escapes markup and replaces XML-invalid characters by U+FFFD, as the CLI SVG does', () => {
  assert.equal(format.xmlEscape('<a href="x">&\'</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  assert.equal(format.xmlEscape('a\x01b\x7f\x1fc'), 'a\uFFFDb\uFFFD\uFFFDc');
  assert.equal(format.xmlEscape('tab\tnl\ncr\r'), 'tab\tnl\ncr\r');  // allowed in XML 1.0
  assert.equal(format.xmlEscape('\uFFFE\uFFFF'), '\uFFFD\uFFFD');
  assert.equal(format.xmlEscape('pair 😀 lone \uD800 \uDC00'), 'pair 😀 lone \uFFFD \uFFFD');
});

test('showToken makes whitespace visible; truncate adds an ellipsis', () => {
  assert.equal(format.showToken(' a\nb\tc\r'), ' a↵b⇥c');
  assert.equal(format.truncate('abcdef', 4), 'abc…');
  assert.equal(format.truncate('abc', 4), 'abc');
});
