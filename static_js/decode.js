/* decode.js: the page's data block -> the graph model (typed arrays, CSR adjacency, supernodes).
 * Pure (needs atob, Blob, Response and DecompressionStream, which browsers and Node >= 20 have).
 * The format is written by attrgraph_cli/report/payload.py.
 */
(function (AG) {
  'use strict';
  var core = AG.core || require('./core.js');
  var DTYPES = { int8: Int8Array, int32: Int32Array, uint16: Uint16Array, uint32: Uint32Array,
    float32: Float32Array, float64: Float64Array };

  function base64ToBytes(b64) {
    if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(b64);  // native: ~4x faster
    var bin = atob(b64), n = bin.length, out = new Uint8Array(n);
    for (var i = 0; i < n; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  async function inflate(b64) {
    if (typeof DecompressionStream === 'undefined') throw new Error('this browser lacks DecompressionStream');
    var stream = new Blob([base64ToBytes(b64)]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    return new Response(stream).arrayBuffer();
  }
  /** The JSON head: plain JSON, or base64 of deflated JSON when it was large. */
  async function readHead(text, encoding) {
    if (encoding === 'deflate-raw') text = new TextDecoder().decode(await inflate(text.trim()));
    return JSON.parse(text);
  }
  /** Bytes stored as planes (plane k = byte k of every item; payload.py shuffle_bytes) back in item order:
   *  one 2- or 4-byte word written per item (little-endian, as typed arrays are on every browser). */
  function unshuffle(planes, size, n) {
    var out = new ArrayBuffer(size * n), i;
    if (size === 4) {
      var o32 = new Uint32Array(out), a = planes.subarray(0, n), b = planes.subarray(n, 2 * n),
        c = planes.subarray(2 * n, 3 * n), d = planes.subarray(3 * n, 4 * n);
      for (i = 0; i < n; i++) o32[i] = (a[i] | (b[i] << 8) | (c[i] << 16) | (d[i] << 24)) >>> 0;
    } else if (size === 2) {
      var o16 = new Uint16Array(out), lo = planes.subarray(0, n), hi = planes.subarray(n, 2 * n);
      for (i = 0; i < n; i++) o16[i] = lo[i] | (hi[i] << 8);
    } else {
      var o8 = new Uint8Array(out);
      for (var k = 0; k < size; k++) for (i = 0; i < n; i++) o8[i * size + k] = planes[k * n + i];
    }
    return out;
  }
  /** The typed-array columns of the blob, viewed in place (offsets are 8-byte aligned). */
  async function unpack(head, b64) {
    var buf = head.blob.encoding === 'deflate-raw' ? await inflate(b64) : base64ToBytes(b64).buffer;
    var cols = {};
    head.blob.columns.forEach(function (c) {
      var T = DTYPES[c.dtype];
      cols[c.name] = c.shuffle ? new T(unshuffle(new Uint8Array(buf, c.offset, c.length * T.BYTES_PER_ELEMENT), T.BYTES_PER_ELEMENT, c.length))
        : new T(buf, c.offset, c.length);
    });
    return cols;
  }

  /** CSR adjacency of `m` edges keyed by `from` (node index per edge); each list keeps edge order. */
  function csr(from, n, m) {
    var start = new Uint32Array(n + 1), list = new Uint32Array(m), e;
    for (e = 0; e < m; e++) start[from[e] + 1]++;
    for (var k = 0; k < n; k++) start[k + 1] += start[k];
    var fill = start.slice(0, n);
    for (e = 0; e < m; e++) list[fill[from[e]]++] = e;
    return { start: start, list: list };
  }

  /** '#rrggbb' as 'r,g,b' (for rgba() with an alpha). */
  function rgbTriplet(hex) {
    var m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(String(hex));
    return [m[1], m[2], m[3]].map(function (x) { return parseInt(x, 16); }).join(',');
  }
  /** g[name] computed by `make` on first read, then kept. */
  function lazy(g, name, make) {
    Object.defineProperty(g, name, { configurable: true, enumerable: true, get: function () {
      var v = make();
      Object.defineProperty(g, name, { value: v, writable: true, enumerable: true });
      return v;
    } });
  }

  /** Supernodes of qParams ([[name, id, id, ...], ...]) with member indices and a colour each. */
  function supernodes(qParams, index, palette) {
    var list = Array.isArray(qParams.supernodes) ? qParams.supernodes : [];  // a hand-edited file may hold anything
    return list.filter(function (s) { return Array.isArray(s) && s.length; })
      .map(function (s, k) {
        var members = [];
        s.slice(1).forEach(function (id) { var j = index.get(String(id)); if (j != null) members.push(j); });
        return { name: String(s[0]), ids: s.slice(1).map(String), members: members, color: palette[k % palette.length] };
      });
  }

  /** The graph model the viewer draws: head + columns. Links stay sorted by |w| (strongest first). What a
   *  node means (head.semantics) and what each extension part shows (head.views) come from Python. */
  function buildGraph(head, cols) {
    var N = head.nodes, n = N.n, m = head.links.m, ft = N.featureType, sem = head.semantics, palette = sem.palette;
    var g = {
      n: n, m: m, ids: N.ids, labels: N.labels.slice(), origLabels: N.labels, kind: cols.kind,
      layer: cols.layer, pos: cols.pos, row: cols.row, feature: cols.feature, act: cols.activation,
      infl: cols.influence, prob: cols.prob, x: cols.x, y: cols.y, src: cols.src, tgt: cols.tgt, w: cols.w,
      featureType: ft.idx.map(function (i) { return ft.table[i]; }), logitToken: N.logitToken,
      nodeExtra: N.extra || {}, linkExtra: head.links.extra || {},
      tokens: head.tokens || [], layout: head.layout, meta: head.metadata || {}, qParams: head.qParams || {},
      extra: head.extra || {}, index: new Map(), maxW: m ? Math.abs(cols.w[0]) : 1, errors: 0,
      display: sem.display.slice(), origDisplay: sem.display, short: sem.short || {}, color: sem.color, rank: Int32Array.from(sem.rank),
      featureKey: sem.featureKey, density: sem.density, dense: sem.dense, thresholds: sem.thresholds,
      limits: sem.limits || {}, views: head.views || {}, palette: palette, supernodesEdited: false,
      posRGB: rgbTriplet(palette.positive), negRGB: rgbTriplet(palette.negative),
      supernodeColors: palette.supernodes
    };
    g.targetLogit = -1;
    for (var i = 0; i < n; i++) {
      g.index.set(g.ids[i], i);
      if (g.kind[i] === core.KIND_ERR) g.errors++;
      if (g.kind[i] === core.KIND_LOGIT && g.targetLogit < 0) g.targetLogit = i;
    }
    // adjacency (CSR, both directions) is built on first use: the first picture does not need it
    lazy(g, 'out', function () { return csr(g.src, n, m); });
    lazy(g, 'inn', function () { return csr(g.tgt, n, m); });
    g.supernodes = supernodes(g.qParams, g.index, g.supernodeColors);
    var pins = [];  // the file's pinned ids as the viewer pins them (known, once each, in order)
    (Array.isArray(g.qParams.pinnedIds) ? g.qParams.pinnedIds : []).forEach(function (id) {
      id = String(id);
      if (g.index.has(id) && pins.indexOf(id) < 0) pins.push(id);
    });
    g.filePins = pins.join('\n');
    return g;
  }

  var decode = { DTYPES: DTYPES, base64ToBytes: base64ToBytes, inflate: inflate, readHead: readHead, unpack: unpack, unshuffle: unshuffle,
    csr: csr, rgbTriplet: rgbTriplet, supernodes: supernodes, buildGraph: buildGraph };
  AG.decode = decode;
  if (typeof module !== 'undefined' && module.exports) module.exports = decode;
})(typeof AG !== 'undefined' ? AG : {});
