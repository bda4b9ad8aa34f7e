/* Read a report's data block (head.txt, head.encoding, blob.b64 in the folder given) the way the page does,
 * and print collapse.js's collapsed graph computed from scratch (not the view Python shipped), for the
 * file's supernodes and pins. Used by tests/report/test_views.py to hold the two to one result. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { mod } = require('../helpers.js');
const decode = mod('decode');
const state = mod('state');
const collapse = mod('collapse');

(async () => {
  const dir = process.argv[2];
  const head = await decode.readHead(fs.readFileSync(path.join(dir, 'head.txt'), 'utf8'),
    fs.readFileSync(path.join(dir, 'head.encoding'), 'utf8').trim());
  const cols = await decode.unpack(head, fs.readFileSync(path.join(dir, 'blob.b64'), 'utf8').trim());
  const g = decode.buildGraph(head, cols);
  const v = collapse.compute(g, state.defaults(g).pinned);
  if (v) delete v.rows;
  process.stdout.write(JSON.stringify({ computed: v, shipped: head.views.supernodes ? head.views.supernodes.collapsed : null }));
})().catch((err) => { console.error(err); process.exit(1); });
