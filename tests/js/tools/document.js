/* Read a report's data block (head.json + blob.b64 in the folder given) the way the page does, and print the
 * JS JSON download writer's document for it. Used by tests/report/test_viewer_js.py to compare with Python's writer. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { mod } = require('../helpers.js');
const decode = mod('decode');
const jsonwriter = mod('jsonwriter');

(async () => {
  const dir = process.argv[2];
  const headText = fs.readFileSync(path.join(dir, 'head.txt'), 'utf8');
  const encoding = fs.readFileSync(path.join(dir, 'head.encoding'), 'utf8').trim();
  const head = await decode.readHead(headText, encoding);
  const cols = await decode.unpack(head, fs.readFileSync(path.join(dir, 'blob.b64'), 'utf8').trim());
  const g = decode.buildGraph(head, cols);
  process.stdout.write(jsonwriter.documentChunks(g, { pinned: new Set(), selected: -1 }).join(''));
})().catch((err) => { console.error(err); process.exit(1); });
