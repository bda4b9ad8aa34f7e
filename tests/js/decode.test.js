'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('node:zlib');
const { PALETTE, mod, tinySemantics, tinyPayload, tinyGraph } = require('./helpers.js');
const decode = mod('decode');

test('base64 and raw-deflate round trip', async () => {
  const data = Buffer.from('attrgraph '.repeat(100));
  assert.deepEqual(Buffer.from(decode.base64ToBytes(data.toString('base64'))), data);
  const packed = zlib.deflateRawSync(data).toString('base64');
  assert.deepEqual(Buffer.from(await decode.inflate(packed)), data);
});

test('readHead reads plain and deflated JSON heads', async () => {
  const head = { a: [1, 'ü'] };
  assert.deepEqual(await decode.readHead(JSON.stringify(head), 'json'), head);
  const b64 = zlib.deflateRawSync(Buffer.from(JSON.stringify(head))).toString('base64');
  assert.deepEqual(await decode.readHead(' ' + b64 + '\n', 'deflate-raw'), head);
});

test('unpack views typed columns at their offsets', async () => {
  const a = Float64Array.from([1.5, -2]), b = Uint16Array.from([7, 8, 9]);
  const raw = Buffer.concat([Buffer.from(a.buffer), Buffer.from(b.buffer)]);
  const head = { blob: { encoding: 'deflate-raw', columns: [
    { name: 'a', dtype: 'float64', offset: 0, length: 2 }, { name: 'b', dtype: 'uint16', offset: 16, length: 3 }] } };
  const cols = await decode.unpack(head, zlib.deflateRawSync(raw).toString('base64'));
  assert.deepEqual(Array.from(cols.a), [1.5, -2]);
  assert.deepEqual(Array.from(cols.b), [7, 8, 9]);
});

test('buildGraph: index, CSR adjacency strongest first, supernodes, target logit, errors', () => {
  const g = tinyGraph();
  assert.equal(g.index.get('1_3_1'), 2);
  assert.equal(g.errors, 1);
  assert.equal(g.targetLogit, 4);
  assert.equal(g.maxW, 4);
  const outOf0 = Array.from(g.out.list.slice(g.out.start[0], g.out.start[1]));
  assert.deepEqual(outOf0, [0, 4]);  // edge order kept: strongest first
  const into4 = Array.from(g.inn.list.slice(g.inn.start[4], g.inn.start[5]));
  assert.deepEqual(into4, [1, 2, 3]);
  assert.equal(g.supernodes.length, 1);
  assert.deepEqual(g.supernodes[0].members, [1, 2]);  // the unknown id is dropped from members ...
  assert.deepEqual(g.supernodes[0].ids, ['1_2_0', '1_3_1', 'gone']);  // ... but kept for the download
});

test('buildGraph takes what nodes mean from head.semantics', () => {
  const sem = { ...tinySemantics(), display: ['a', 'b', 'c', 'd', 'e'], color: ['#000001', '#000002', '#000003', '#000004', '#000005'],
    rank: [4, 0, 1, 2, 3], featureKey: [null, '1_2', null, null, null], density: [null, 0.5, null, null, null],
    palette: { ...PALETTE, positive: '#010203', negative: '#040506', supernodes: ['#555555'] } };
  const { head, cols } = tinyPayload({ semantics: sem });
  const g = decode.buildGraph(head, cols);
  assert.deepEqual(g.display, sem.display);
  assert.deepEqual(Array.from(g.rank), sem.rank);
  assert.equal(g.color[1], '#000002');
  assert.equal(g.supernodes[0].color, '#555555');
  assert.deepEqual([g.posRGB, g.negRGB], ['1,2,3', '4,5,6']);  // edge colours as r,g,b triplets
  assert.equal(decode.rgbTriplet('#0a0B10'), '10,11,16');
});

test('shuffled columns (byte planes, payload.py shuffle_bytes) come back in item order', async () => {
  const w = Float32Array.from([4, -3, 2.5, 1e-3, 0]), n = w.length, bytes = new Uint8Array(w.buffer);
  const planes = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < 4; k++) planes[k * n + i] = bytes[i * 4 + k];
  const head = { blob: { encoding: 'deflate-raw', columns: [{ name: 'w', dtype: 'float32', offset: 0, length: n, shuffle: true }] } };
  const cols = await decode.unpack(head, zlib.deflateRawSync(Buffer.from(planes)).toString('base64'));
  assert.deepEqual(Array.from(cols.w), Array.from(w));
});

test('unshuffle handles 2-, 4- and 8-byte items', () => {
  for (const T of [Uint16Array, Int32Array, Float64Array]) {
    const v = T.from([1, 2, 300, 65535 % 2 ** (8 * T.BYTES_PER_ELEMENT - 1), 7]), n = v.length, size = T.BYTES_PER_ELEMENT;
    const bytes = new Uint8Array(v.buffer), planes = new Uint8Array(size * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < size; k++) planes[k * n + i] = bytes[i * size + k];
    assert.deepEqual(Array.from(new T(decode.unshuffle(planes, size, n))), Array.from(v), T.name);
  }
});

test('buildGraph: qParams.supernodes that is not an array gives no supernodes (it used to throw)', () => {
  for (const supernodes of ['abc', { a: 1 }, 5, null]) {
    const g = tinyGraph({ qParams: { supernodes } });
    assert.deepEqual(g.supernodes, [], JSON.stringify(supernodes));
  }
  const g = tinyGraph({ qParams: { supernodes: [[{ x: 1 }, '1_2_0'], [null], 'str', []] } });
  assert.deepEqual(g.supernodes.map((s) => s.members), [[1], []]);  // odd names become text, members resolve
});
