/* attrgraph viewer: draws one attribution graph from the data embedded in the page.
 *
 * Plain JS, no framework, no network. Entry point: AttrgraphViewer.render(element, {head, headEncoding, blob})
 * where `head` is the JSON head (an object, a JSON string, or base64 of deflated JSON when headEncoding is
 * 'deflate-raw') and `blob` the base64 string of the deflated typed arrays (attrgraph_cli/report/payload.py). Links are drawn on a canvas (strongest first, up to a budget),
 * hover uses a uniform grid over the nodes' screen positions, and every string from the graph is put
 * into the page with textContent only.
 */
(function () {
  'use strict';

  var KIND_EMB = 0, KIND_FEAT = 1, KIND_ERR = 2, KIND_LOGIT = 3;
  var KIND_NAME = ['embedding', 'feature', 'error', 'logit'];
  var KIND_COLOR = ['#475569', '#0d9488', '#a8a29e', '#16a34a'];
  var POS_RGB = '37,99,235', NEG_RGB = '220,38,38';
  var CLUSTER_COLORS = ['#e11d48', '#7c3aed', '#ea580c', '#0891b2', '#65a30d', '#c026d3', '#ca8a04',
    '#4f46e5', '#059669', '#db2777', '#0284c7', '#92400e'];
  var LINK_BUDGET = 20000;       // links drawn at once (strongest first) in the base layer
  var MOVING_LINK_BUDGET = 2500; // links drawn while the user drags or zooms (full budget once settled)
  var SETTLE_MS = 160;
  var NODE_LINK_BUDGET = 4000;   // links drawn for a hovered / selected node
  var ERRORS_HIDDEN_ABOVE = 50;  // error nodes start hidden when there are more than this
  var MARGIN = { left: 58, right: 36, top: 12, bottom: 64 };
  var GRID = 24;                 // spatial-index cell size in CSS pixels
  var DTYPES = { int8: Int8Array, int32: Int32Array, uint16: Uint16Array, uint32: Uint32Array,
    float32: Float32Array, float64: Float64Array };

  // ---------------------------------------------------------------- small helpers
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') el.textContent = attrs[k];
      else if (k === 'cls') el.className = attrs[k];
      else if (k === 'style') el.style.cssText = attrs[k];  // CSSOM: allowed by the page's CSP
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), attrs[k]);
      else el.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null) continue;
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }
  function fmt(v, digits) {
    if (v == null || isNaN(v)) return '—';
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
    return v.toFixed(digits == null ? 3 : digits);
  }
  function xmlEscape(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function showToken(t) { return String(t).replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/\r/g, ''); }
  function truncate(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + '…' : s; }
  function base64ToBytes(b64) {
    var bin = atob(b64), n = bin.length, out = new Uint8Array(n);
    for (var i = 0; i < n; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function download(name, blob) {
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
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
  async function unpack(head, b64) {
    var buf = head.blob.encoding === 'deflate-raw' ? await inflate(b64) : base64ToBytes(b64).buffer;
    var cols = {};
    head.blob.columns.forEach(function (c) { cols[c.name] = new DTYPES[c.dtype](buf, c.offset, c.length); });
    return cols;
  }

  // ---------------------------------------------------------------- graph model
  function buildGraph(head, cols) {
    var N = head.nodes, n = N.n, m = head.links.m, ft = N.featureType;
    var g = {
      n: n, m: m, ids: N.ids, labels: N.labels.slice(), origLabels: N.labels, kind: cols.kind,
      layer: cols.layer, pos: cols.pos, row: cols.row, feature: cols.feature, act: cols.activation,
      infl: cols.influence, prob: cols.prob, x: cols.x, y: cols.y, src: cols.src, tgt: cols.tgt, w: cols.w,
      featureType: ft.idx.map(function (i) { return ft.table[i]; }), logitToken: N.logitToken,
      detailKey: N.detailKey, nodeExtra: N.extra || {}, linkExtra: head.links.extra || {},
      tokens: head.tokens || [], layout: head.layout, meta: head.metadata || {}, qParams: head.qParams || {},
      extra: head.extra || {}, index: new Map(), maxW: m ? Math.abs(cols.w[0]) : 1, errors: 0
    };
    g.targetLogit = -1;
    for (var i = 0; i < n; i++) {
      g.index.set(g.ids[i], i);
      if (g.kind[i] === KIND_ERR) g.errors++;
      if (g.kind[i] === KIND_LOGIT && g.targetLogit < 0) g.targetLogit = i;
    }
    // CSR adjacency in both directions; edges are sorted by |w| so each list is strongest first
    function csr(from) {
      var start = new Uint32Array(n + 1), list = new Uint32Array(m), fill;
      for (var e = 0; e < m; e++) start[from[e] + 1]++;
      for (var k = 0; k < n; k++) start[k + 1] += start[k];
      fill = start.slice(0, n);
      for (e = 0; e < m; e++) list[fill[from[e]]++] = e;
      return { start: start, list: list };
    }
    g.out = csr(g.src);
    g.inn = csr(g.tgt);
    g.supernodes = (g.qParams.supernodes || []).filter(function (s) { return Array.isArray(s) && s.length; })
      .map(function (s, k) {
        var members = [];
        s.slice(1).forEach(function (id) { var j = g.index.get(String(id)); if (j != null) members.push(j); });
        return { name: String(s[0]), ids: s.slice(1).map(String), members: members,
          color: CLUSTER_COLORS[k % CLUSTER_COLORS.length] };
      });
    return g;
  }

  function displayLabel(g, i) {
    var l = g.labels[i];
    if (l) return l;
    var k = g.kind[i];
    if (k === KIND_EMB) return g.tokens[g.pos[i]] != null ? showToken(g.tokens[g.pos[i]]) : 'Emb ' + g.ids[i];
    if (k === KIND_ERR) return 'Error L' + g.layer[i] + ' @' + g.pos[i];
    if (k === KIND_LOGIT && g.logitToken[i]) return 'Output "' + showToken(g.logitToken[i]) + '"';
    return g.ids[i];
  }
  function layerName(g, i) {
    var k = g.kind[i];
    return k === KIND_EMB ? 'Emb' : k === KIND_LOGIT ? 'Logits' : 'L' + g.layer[i];
  }

  // ---------------------------------------------------------------- Neuronpedia JSON writer
  function num(v) { return v == null || isNaN(v) ? null : v; }
  function cantor(x, y) { return (x + y) * (x + y + 1) / 2 + y; }
  /** One node as attrgraph's JSON writer writes it (io/neuronpedia_json.py), then the file's own keys. */
  function nodeObject(g, i) {
    var k = g.kind[i], layer = g.layer[i], pos = g.pos[i], feat = g.feature[i], feature, js;
    if (k === KIND_FEAT) {
      var sv = g.meta.schema_version === undefined ? 1 : g.meta.schema_version;
      feature = feat >= 0 ? (Number.isInteger(sv) && sv >= 1 ? cantor(layer, feat) : layer * 100000 + feat) : null;
      js = layer + '_' + feat + '-0';
    } else if (k === KIND_ERR) { feature = -1; js = layer + '_' + pos + '-0'; }
    else if (k === KIND_EMB) { feature = pos; js = 'E_' + feat + '-' + pos; }
    else { feature = feat; js = 'L_' + feat + '-' + pos; }
    var o = {
      node_id: g.ids[i], feature: feature, layer: k === KIND_EMB ? 'E' : String(layer), ctx_idx: pos,
      feature_type: g.featureType[i] || KIND_NAME[k], token_prob: k === KIND_LOGIT && !isNaN(g.prob[i]) ? g.prob[i] : 0,
      is_target_logit: i === g.targetLogit, run_idx: 0, reverse_ctx_idx: 0, jsNodeId: js, clerp: '',
      influence: num(g.infl[i]), activation: num(g.act[i])
    };
    var ex = g.nodeExtra[i];
    if (ex) for (var key in ex) o[key] = ex[key];
    o.clerp = g.labels[i];  // the (possibly edited) label wins
    return o;
  }
  /** The graph as a Neuronpedia-compatible document (as a list of string chunks, cheap for 1M links). */
  function graphDocumentChunks(g, st) {
    var qp = Object.assign({}, g.qParams);
    qp.pinnedIds = Array.from(st.pinned).map(function (i) { return g.ids[i]; });
    qp.supernodes = g.supernodes.map(function (s) { return [s.name].concat(s.ids); });
    qp.clickedId = st.selected >= 0 ? g.ids[st.selected] : '';
    if (qp.linkType == null) qp.linkType = 'both';
    if (qp.sg_pos == null) qp.sg_pos = '';
    var meta = Object.assign({}, g.meta);
    var chunks = ['{"metadata":', JSON.stringify(meta), ',"qParams":', JSON.stringify(qp), ',"nodes":['];
    for (var i = 0; i < g.n; i++) chunks.push((i ? ',' : '') + JSON.stringify(nodeObject(g, i)));
    chunks.push('],"links":[');
    var part = [], first = true;
    for (var e = 0; e < g.m; e++) {
      var lo = { source: g.ids[g.src[e]], target: g.ids[g.tgt[e]], weight: g.w[e] };
      var lx = g.linkExtra[e];
      if (lx) for (var key in lx) if (!(key in lo)) lo[key] = lx[key];
      part.push(JSON.stringify(lo));
      if (part.length === 20000) { chunks.push((first ? '' : ',') + part.join(',')); part = []; first = false; }
    }
    if (part.length) chunks.push((first ? '' : ',') + part.join(','));
    chunks.push(']');
    for (var k in g.extra) {
      if (k === 'metadata' || k === 'qParams' || k === 'nodes' || k === 'links') continue;
      chunks.push(',' + JSON.stringify(k) + ':' + JSON.stringify(g.extra[k]));
    }
    chunks.push('}');
    return chunks;
  }

  // ---------------------------------------------------------------- the viewer
  function Viewer(root, head, g) {
    var self = this;
    this.root = root; this.head = head; this.g = g;
    var thr = typeof g.meta.node_threshold === 'number' ? g.meta.node_threshold : 1;
    this.st = {
      nodeThreshold: Math.min(Math.max(thr, 0), 1), minWeight: 0, nodeSize: 4, labelDensity: 0.1,
      showErrors: g.errors <= ERRORS_HIDDEN_ABOVE, query: '', selected: -1, hover: -1, pinned: new Set(),
      clusters: new Set(), k: 1, tx: 0, ty: 0
    };
    (g.qParams.pinnedIds || []).forEach(function (id) {
      var j = g.index.get(String(id)); if (j != null) self.st.pinned.add(j);
    });
    if (g.qParams.clickedId && g.index.has(String(g.qParams.clickedId))) this.st.selected = g.index.get(String(g.qParams.clickedId));
    this.hits = [];
    this.hoverTimes = [];
    this.metrics = {};
    this.readHash();
    this.buildDom();
    this.recompute();
  }

  Viewer.prototype.buildDom = function () {
    var self = this, g = this.g, st = this.st, root = this.root;
    root.textContent = '';
    function slider(name, label, min, max, step, value, onInput) {
      var out = h('output', { 'for': name });
      var input = h('input', { type: 'range', id: name, name: name, min: min, max: max, step: step,
        'aria-label': label });
      input.value = value;
      input.addEventListener('input', function () { onInput(+input.value, out); });
      onInput(+input.value, out, true);
      return { el: h('label', { cls: 'ag-ctl', title: label }, label, input, out), input: input, out: out };
    }
    this.ui = {};
    var title = this.head.title || g.meta.slug || 'Attribution graph';
    this.status = h('span', { cls: 'ag-status', id: 'ag-status' });
    var top = h('div', { cls: 'ag-top' }, h('div', { cls: 'ag-title', title: title, text: title }));
    this.ui.nodeThr = slider('ag-node-threshold', 'Node influence', 0, 1, 0.01, st.nodeThreshold,
      function (v, out, init) { st.nodeThreshold = v; out.textContent = v.toFixed(2); if (!init) self.changed(true); });
    this.ui.edge = slider('ag-edge-threshold', 'Min |edge|', 0, 1000, 1, this.weightToSlider(st.minWeight),
      function (v, out, init) { st.minWeight = self.sliderToWeight(v); out.textContent = fmt(st.minWeight, 3);
        if (!init) self.changed(true); });
    this.ui.size = slider('ag-node-size', 'Node size', 1, 14, 0.5, st.nodeSize,
      function (v, out, init) { st.nodeSize = v; out.textContent = v.toFixed(1); if (!init) self.changed(false); });
    this.ui.labels = slider('ag-label-density', 'Labels', 0, 1, 0.01, st.labelDensity,
      function (v, out, init) { st.labelDensity = v; out.textContent = Math.round(v * 100) + '%';
        if (!init) self.changed(false); });
    this.ui.search = h('input', { cls: 'ag-search', type: 'search', id: 'ag-search',
      placeholder: 'Search label or id  ( / )', 'aria-label': 'Search nodes' });
    this.ui.search.value = st.query;
    this.ui.search.addEventListener('input', function () { st.query = self.ui.search.value; self.search(); });
    this.ui.search.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' && self.hits.length) { self.select(self.hits[0]); }
    });
    this.ui.hitCount = h('span', { cls: 'ag-ctl' });
    this.ui.errors = h('button', { cls: 'ag-btn', id: 'ag-toggle-errors', type: 'button',
      onclick: function () { st.showErrors = !st.showErrors; self.changed(true); } });
    var btn = function (id, text, fn, tip) {
      return h('button', { cls: 'ag-btn', id: id, type: 'button', title: tip || text, onclick: fn }, text);
    };
    top.append(this.ui.nodeThr.el, this.ui.edge.el, this.ui.size.el, this.ui.labels.el, this.ui.search,
      this.ui.hitCount, this.ui.errors,
      btn('ag-reset-view', 'Fit', function () { st.k = 1; st.tx = 0; st.ty = 0; self.draw(); }, 'Reset zoom'),
      btn('ag-export-svg', 'SVG', function () { self.exportSvg(); }, 'Export the current view as SVG'),
      btn('ag-export-png', 'PNG', function () { self.exportPng(); }, 'Export the current view as PNG'),
      btn('ag-download-json', 'Download graph JSON', function () { self.downloadJson(); },
        'Neuronpedia-compatible graph with your labels, pins and supernodes'), this.status);

    this.plot = h('div', { cls: 'ag-plot', id: 'ag-plot' });
    this.base = h('canvas', { id: 'ag-canvas' });
    this.over = h('canvas', { id: 'ag-overlay' });
    this.tooltip = h('div', { cls: 'ag-tooltip', id: 'ag-tooltip', role: 'tooltip' });
    var legend = h('div', { cls: 'ag-legend', id: 'ag-legend' });
    [['●', KIND_COLOR[KIND_FEAT], 'feature'], ['◆', KIND_COLOR[KIND_ERR], 'error'], ['■', KIND_COLOR[KIND_EMB], 'embedding'],
      ['▲', KIND_COLOR[KIND_LOGIT], 'logit'], ['━', 'rgb(' + POS_RGB + ')', '+ edge'], ['━', 'rgb(' + NEG_RGB + ')', '− edge']]
      .forEach(function (item) {
        legend.append(h('span', {}, h('b', { text: item[0], style: 'color:' + item[1] }), ' ' + item[2]));
      });
    this.plot.append(this.base, this.over, this.tooltip, legend);

    this.detail = h('div', { cls: 'ag-section', id: 'ag-detail' });
    this.clusterBox = h('div', { cls: 'ag-section', id: 'ag-clusters' });
    this.subBox = h('div', { cls: 'ag-section ag-subgraph', id: 'ag-subgraph' });
    var side = h('div', { cls: 'ag-side' }, this.detail, this.clusterBox, this.subBox, this.graphInfo());
    root.append(top, h('div', { cls: 'ag-main' }, this.plot, side));

    this.bindPlot();
    document.addEventListener('keydown', function (ev) {
      var typing = ev.target && (ev.target.tagName === 'INPUT' || ev.target.tagName === 'TEXTAREA');
      if (ev.key === 'Escape') {
        if (typing) ev.target.blur();
        self.select(-1);
      } else if (ev.key === '/' && !typing) {
        ev.preventDefault();
        self.ui.search.focus();
        self.ui.search.select();
      }
    });
    window.addEventListener('hashchange', function () {
      if (location.hash !== self.lastHash) { self.readHash(); self.syncControls(); self.recompute(); }
    });
    new ResizeObserver(function () { self.resize(); }).observe(this.plot);
  };

  /** A side-panel section describing the graph: model, prompt, sizes, generator. */
  Viewer.prototype.graphInfo = function () {
    var g = this.g, m = g.meta, info = m.info || {}, dl = h('dl', { cls: 'ag-kv' });
    var gen = info.generator || {};
    [['model', m.scan], ['slug', m.slug], ['prompt', m.prompt], ['nodes', g.n + ' (' + g.errors + ' errors)'],
      ['links', String(g.m)], ['node threshold', m.node_threshold], ['generator', [gen.name, gen.version].filter(Boolean).join(' ')],
      ['description', info.description]]
      .forEach(function (r) {
        if (r[1] == null || r[1] === '') return;
        dl.append(h('dt', { text: r[0] }), h('dd', { text: String(r[1]) }));
      });
    return h('div', { cls: 'ag-section', id: 'ag-graph-info' }, h('h3', { text: 'Graph' }), dl);
  };

  Viewer.prototype.weightToSlider = function (w) {
    if (!(w > 0)) return 0;
    return Math.max(1, Math.min(1000, Math.round(1000 * (1 + Math.log10(w / this.g.maxW) / 4))));
  };
  Viewer.prototype.sliderToWeight = function (v) {
    return v <= 0 ? 0 : this.g.maxW * Math.pow(10, -4 * (1 - v / 1000));
  };
  Viewer.prototype.syncControls = function () {
    var st = this.st;
    this.ui.nodeThr.input.value = st.nodeThreshold; this.ui.nodeThr.out.textContent = st.nodeThreshold.toFixed(2);
    this.ui.edge.input.value = this.weightToSlider(st.minWeight); this.ui.edge.out.textContent = fmt(st.minWeight, 3);
    this.ui.size.input.value = st.nodeSize; this.ui.size.out.textContent = st.nodeSize.toFixed(1);
    this.ui.labels.input.value = st.labelDensity;
    this.ui.labels.out.textContent = Math.round(st.labelDensity * 100) + '%';
    this.ui.search.value = st.query;
  };

  // ---------------------------------------------------------------- state <-> URL hash
  Viewer.prototype.readHash = function () {
    var g = this.g, st = this.st, p = new URLSearchParams(location.hash.replace(/^#/, ''));
    function ids(s) {
      var out = [];
      (s || '').split(',').forEach(function (x) {
        if (!x) return; var j = g.index.get(decodeURIComponent(x)); if (j != null) out.push(j);
      });
      return out;
    }
    function number(key, lo, hi) {
      var v = parseFloat(p.get(key)); return isFinite(v) ? Math.min(Math.max(v, lo), hi) : null;
    }
    if (p.has('sel')) { var s = ids(p.get('sel')); st.selected = s.length ? s[0] : -1; }
    if (p.has('pin')) st.pinned = new Set(ids(p.get('pin')));
    if (p.has('cl')) {
      st.clusters = new Set(p.get('cl').split(',').map(Number).filter(function (k) {
        return Number.isInteger(k) && k >= 0 && k < g.supernodes.length;
      }));
    }
    var v;
    if ((v = number('nt', 0, 1)) != null) st.nodeThreshold = v;
    if ((v = number('ew', 0, Infinity)) != null) st.minWeight = v;
    if ((v = number('ns', 1, 14)) != null) st.nodeSize = v;
    if ((v = number('ld', 0, 1)) != null) st.labelDensity = v;
    if (p.has('err')) st.showErrors = p.get('err') === '1';
    if (p.has('q')) st.query = p.get('q');
    if (p.has('z')) {
      var z = p.get('z').split(',').map(parseFloat);
      if (z.length === 3 && z.every(isFinite) && z[0] > 0) { st.k = z[0]; st.tx = z[1]; st.ty = z[2]; }
    }
  };
  Viewer.prototype.writeHash = function () {
    var g = this.g, st = this.st, p = new URLSearchParams();
    function ids(set) { return Array.from(set).map(function (i) { return encodeURIComponent(g.ids[i]); }).join(','); }
    if (st.selected >= 0) p.set('sel', encodeURIComponent(g.ids[st.selected]));
    if (st.pinned.size) p.set('pin', ids(st.pinned));
    if (st.clusters.size) p.set('cl', Array.from(st.clusters).join(','));
    p.set('nt', String(st.nodeThreshold));
    p.set('ew', String(+st.minWeight.toPrecision(4)));
    p.set('ns', String(st.nodeSize));
    p.set('ld', String(st.labelDensity));
    p.set('err', st.showErrors ? '1' : '0');
    if (st.query) p.set('q', st.query);
    if (st.k !== 1 || st.tx || st.ty) p.set('z', [st.k.toPrecision(4), st.tx.toFixed(1), st.ty.toFixed(1)].join(','));
    var hash = '#' + p.toString();
    if (hash !== location.hash) {
      this.lastHash = hash;
      try { history.replaceState(null, '', hash); } catch (e) { /* some file:// contexts refuse */ }
      this.lastHash = location.hash;
    }
  };

  // ---------------------------------------------------------------- filtering
  Viewer.prototype.changed = function (filters) {
    if (filters) this.recompute(); else this.draw();
  };
  Viewer.prototype.recompute = function () {
    var g = this.g, st = this.st, n = g.n, vis = new Uint8Array(n), count = 0;
    for (var i = 0; i < n; i++) {
      var k = g.kind[i], inf = g.infl[i];
      var ok = k === KIND_EMB || k === KIND_LOGIT || isNaN(inf) || inf <= st.nodeThreshold + 1e-12;
      if (k === KIND_ERR && !st.showErrors) ok = false;
      if (st.pinned.has(i) || i === st.selected) ok = ok || (k !== KIND_ERR || st.showErrors);
      if (ok) { vis[i] = 1; count++; }
    }
    // edges are sorted by |w| descending: those above the threshold are a prefix
    var lo = 0, hi = g.m, minW = st.minWeight;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (Math.abs(g.w[mid]) >= minW) lo = mid + 1; else hi = mid; }
    var drawn = new Uint32Array(Math.min(lo, LINK_BUDGET)), nd = 0, nv = 0;
    for (var e = 0; e < lo; e++) {
      if (vis[g.src[e]] && vis[g.tgt[e]]) { nv++; if (nd < drawn.length) drawn[nd++] = e; }
    }
    this.visible = vis; this.visibleNodes = count; this.visibleLinks = nv; this.linkCut = lo;
    this.drawList = drawn.subarray(0, nd);
    this.ui.errors.textContent = (st.showErrors ? 'Hide' : 'Show') + ' errors (' + g.errors + ')';
    this.ui.errors.setAttribute('aria-pressed', String(st.showErrors));
    this.ui.errors.disabled = g.errors === 0;
    this.draw();
    this.search();
    this.renderPanels();
  };

  Viewer.prototype.search = function () {
    var g = this.g, q = this.st.query.trim().toLowerCase(), hits = [];
    if (q) for (var i = 0; i < g.n; i++) {
      if (!this.visible[i]) continue;
      if (String(g.ids[i]).toLowerCase().indexOf(q) >= 0 || displayLabel(g, i).toLowerCase().indexOf(q) >= 0) hits.push(i);
    }
    this.hits = hits;
    this.ui.hitCount.textContent = q ? hits.length + ' match' + (hits.length === 1 ? '' : 'es') : '';
    this.drawOverlay();
    this.writeHash();
  };

  // ---------------------------------------------------------------- geometry
  Viewer.prototype.resize = function () {
    var r = this.plot.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    this.W = Math.max(200, r.width); this.H = Math.max(160, r.height); this.dpr = dpr;
    [this.base, this.over].forEach(function (c) {
      c.width = Math.round(this.W * dpr); c.height = Math.round(this.H * dpr);
      c.style.width = this.W + 'px'; c.style.height = this.H + 'px';
    }, this);
    this.draw();
  };
  Viewer.prototype.geometry = function () {
    var L = this.g.layout, st = this.st;
    var pw = this.W - MARGIN.left - MARGIN.right, ph = this.H - MARGIN.top - MARGIN.bottom;
    var ux = pw / Math.max(L.width, 1), uy = ph / Math.max(L.height, 1);
    return {
      ux: ux * st.k, uy: uy * st.k,
      ox: MARGIN.left + st.tx, oy: MARGIN.top + st.ty,
      sx: function (x) { return MARGIN.left + st.tx + x * ux * st.k; },
      sy: function (y) { return MARGIN.top + st.ty + y * uy * st.k; }
    };
  };
  Viewer.prototype.project = function () {
    var g = this.g, geo = this.geometry(), n = g.n;
    var SX = this.SX && this.SX.length === n ? this.SX : new Float32Array(n);
    var SY = this.SY && this.SY.length === n ? this.SY : new Float32Array(n);
    for (var i = 0; i < n; i++) { SX[i] = geo.ox + g.x[i] * geo.ux; SY[i] = geo.oy + g.y[i] * geo.uy; }
    this.SX = SX; this.SY = SY; this.geo = geo;
    // uniform grid over visible nodes' screen positions: cell -> node list (CSR)
    var cols = Math.ceil(this.W / GRID) + 1, rows = Math.ceil(this.H / GRID) + 1, nc = cols * rows;
    var cellOf = new Int32Array(n), start = new Uint32Array(nc + 1);
    for (i = 0; i < n; i++) {
      var cx = Math.floor(SX[i] / GRID), cy = Math.floor(SY[i] / GRID);
      if (!this.visible[i] || cx < 0 || cy < 0 || cx >= cols || cy >= rows) { cellOf[i] = -1; continue; }
      cellOf[i] = cy * cols + cx; start[cellOf[i] + 1]++;
    }
    for (var c = 0; c < nc; c++) start[c + 1] += start[c];
    var fill = start.slice(0, nc), list = new Uint32Array(start[nc]);
    for (i = 0; i < n; i++) if (cellOf[i] >= 0) list[fill[cellOf[i]]++] = i;
    this.grid = { cols: cols, rows: rows, start: start, list: list };
  };
  /** Nearest visible node to (x, y) within `radius` px, via the grid (looks at 3x3 cells at most). */
  Viewer.prototype.nearest = function (x, y, radius) {
    var gr = this.grid, best = -1, bd = radius * radius;
    var cx = Math.floor(x / GRID), cy = Math.floor(y / GRID), reach = Math.ceil(radius / GRID);
    for (var yy = cy - reach; yy <= cy + reach; yy++) {
      if (yy < 0 || yy >= gr.rows) continue;
      for (var xx = cx - reach; xx <= cx + reach; xx++) {
        if (xx < 0 || xx >= gr.cols) continue;
        var c = yy * gr.cols + xx;
        for (var p = gr.start[c]; p < gr.start[c + 1]; p++) {
          var i = gr.list[p], dx = this.SX[i] - x, dy = this.SY[i] - y, d = dx * dx + dy * dy;
          if (d <= bd) { bd = d; best = i; }
        }
      }
    }
    return best;
  };
  /** Glyph radius: the node-size control, shrunk when slots are narrower than that (zoom restores it). */
  Viewer.prototype.radius = function (i) {
    var k = this.g.kind[i], r = this.st.nodeSize;
    if (this.geo) r = Math.min(r, Math.max(1.5, 0.46 * Math.min(this.geo.ux, this.geo.uy)));
    return k === KIND_FEAT ? r : r * 1.15;
  };

  // ---------------------------------------------------------------- drawing
  function glyph(ctx, kind, x, y, r) {
    if (kind === KIND_FEAT) { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 6.2832); }
    else if (kind === KIND_ERR) { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath(); }
    else if (kind === KIND_EMB) { ctx.rect(x - r, y - r, 2 * r, 2 * r); }
    else { ctx.moveTo(x, y - r * 1.15); ctx.lineTo(x + r, y + r * 0.7); ctx.lineTo(x - r, y + r * 0.7); ctx.closePath(); }
  }
  function linkStyle(w, maxW) {
    var t = Math.sqrt(Math.min(Math.abs(w) / (maxW || 1), 1));
    return { bucket: Math.min(5, Math.floor(t * 6)), width: 0.35 + 2.8 * t, alpha: 0.12 + 0.6 * t };
  }

  Viewer.prototype.draw = function () {
    if (!this.W) return;
    var t0 = performance.now();
    var g = this.g, st = this.st, ctx = this.base.getContext('2d'), dpr = this.dpr;
    this.project();
    var geo = this.geo, SX = this.SX, SY = this.SY, L = g.layout, W = this.W, H = this.H;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#ffffff'; ctx.fillRect(0, 0, W, H);
    this.scene = { rows: [], links: [], nodes: [], labels: [], tokens: [] };
    var plotBottom = H - MARGIN.bottom;
    // layer bands and row labels
    ctx.font = '11px system-ui, sans-serif'; ctx.textBaseline = 'middle'; ctx.textAlign = 'right';
    for (var r = 0; r < L.rowLabels.length; r++) {
      var y0 = geo.oy + r * geo.uy, y1 = y0 + geo.uy;
      if (y1 < 0 || y0 > plotBottom) continue;
      if (r % 2 === 0) { ctx.fillStyle = '#f8fafc'; ctx.fillRect(MARGIN.left, y0, W - MARGIN.left, geo.uy); }
      this.scene.rows.push({ y0: y0, h: geo.uy, label: L.rowLabels[r], shade: r % 2 === 0 });
    }
    // columns: faint separators
    ctx.strokeStyle = '#eef0f3'; ctx.lineWidth = 1; ctx.beginPath();
    for (var c = 1; c < L.columnLeft.length; c++) {
      var xs = geo.ox + (L.columnLeft[c] - 0.5) * geo.ux;
      if (xs > MARGIN.left && xs < W) { ctx.moveTo(xs, MARGIN.top); ctx.lineTo(xs, plotBottom); }
    }
    ctx.stroke();
    // links, batched by sign and width bucket
    var list = this.viewLinks(), maxW = g.maxW, paths = [];
    this.weakestDrawn = list.length ? Math.abs(g.w[list[list.length - 1]]) : null;
    for (var b = 0; b < 12; b++) paths.push([]);
    var culled = 0;
    for (var q = 0; q < list.length; q++) {
      var e = list[q], s = g.src[e], t = g.tgt[e];
      var ax = SX[s], ay = SY[s], bx = SX[t], by = SY[t];
      if ((ax < 0 && bx < 0) || (ax > W && bx > W) || (ay < 0 && by < 0) || (ay > H && by > H)) { culled++; continue; }
      var ls = linkStyle(g.w[e], maxW);
      paths[(g.w[e] >= 0 ? 0 : 6) + ls.bucket].push(e);
    }
    ctx.lineCap = 'butt';
    for (b = 11; b >= 0; b--) {  // faint first, strong last; negative before positive of same strength
      var bb = (b % 2 === 0) ? (b >> 1) : 6 + (b >> 1);
      var group = paths[bb];
      if (!group.length) continue;
      var tt = ((bb % 6) + 0.5) / 6;
      ctx.strokeStyle = 'rgba(' + (bb < 6 ? POS_RGB : NEG_RGB) + ',' + (0.06 + 0.64 * tt * tt).toFixed(3) + ')';
      ctx.lineWidth = 0.3 + 2.6 * tt;
      ctx.beginPath();
      for (q = 0; q < group.length; q++) {
        e = group[q]; ctx.moveTo(SX[g.src[e]], SY[g.src[e]]); ctx.lineTo(SX[g.tgt[e]], SY[g.tgt[e]]);
      }
      ctx.stroke();
    }
    this.scene.linkGroups = paths;
    this.drawnLinks = list.length - culled;
    // nodes, one path per kind
    for (var kind = 0; kind < 4; kind++) {
      ctx.beginPath();
      var any = false;
      for (var i = 0; i < g.n; i++) {
        if (g.kind[i] !== kind || !this.visible[i]) continue;
        var x = SX[i], y = SY[i];
        if (x < -20 || x > W + 20 || y < -20 || y > H + 20) continue;
        glyph(ctx, kind, x, y, this.radius(i)); any = true;
      }
      if (!any) continue;
      ctx.fillStyle = KIND_COLOR[kind]; ctx.fill();
      ctx.strokeStyle = '#ffffff'; ctx.lineWidth = 0.8; ctx.stroke();
    }
    this.drawLabels(ctx);
    // gutter: row labels on the left, tokens below (drawn over anything that was zoomed into them)
    ctx.fillStyle = '#ffffff'; ctx.fillRect(0, 0, MARGIN.left - 2, H); ctx.fillRect(0, plotBottom, W, H - plotBottom);
    ctx.fillStyle = '#4b5563'; ctx.font = '11px system-ui, sans-serif'; ctx.textAlign = 'right';
    var step = Math.max(1, Math.ceil(12 / Math.max(geo.uy, 1)));
    this.scene.rows.forEach(function (row, k) {
      var ry = row.y0 + row.h / 2;
      if (ry < MARGIN.top - 2 || ry > plotBottom) return;
      if (row.label !== 'Logits' && row.label !== 'Emb' && k % step) return;
      ctx.fillText(row.label, MARGIN.left - 8, ry); row.shown = true;
    });
    this.drawTokens(ctx, plotBottom);
    ctx.strokeStyle = '#d1d5db'; ctx.beginPath(); ctx.moveTo(MARGIN.left - 2, plotBottom + 0.5);
    ctx.lineTo(W, plotBottom + 0.5); ctx.stroke();
    this.status.textContent = this.visibleNodes + ' / ' + g.n + ' nodes · ' + this.visibleLinks + ' / ' + g.m +
      ' links' + (this.visibleLinks > list.length ? ' (strongest ' + this.drawnLinks + ' in view drawn)' : '') +
      ' · scroll: zoom, drag: pan';
    this.metrics.lastDrawMs = performance.now() - t0;
    this.drawOverlay();
    if (!this.moving) this.writeHash();  // during a drag the hash follows once it settles (no history spam)
  };

  /** Links to draw: at full view the strongest visible ones (up to the budget); zoomed in, the strongest
   *  among those that cross the view, so weaker local links appear as you zoom. */
  Viewer.prototype.viewLinks = function () {
    var budget = this.moving ? MOVING_LINK_BUDGET : LINK_BUDGET;
    if (this.st.k <= 1.0001) return this.drawList.subarray(0, Math.min(budget, this.drawList.length));
    var g = this.g, SX = this.SX, SY = this.SY, W = this.W, H = this.H, vis = this.visible;
    var out = new Uint32Array(Math.min(budget, this.linkCut)), n = 0;
    for (var e = 0; e < this.linkCut && n < out.length; e++) {
      var s = g.src[e], t = g.tgt[e];
      if (!vis[s] || !vis[t]) continue;
      var ax = SX[s], ay = SY[s], bx = SX[t], by = SY[t];
      if ((ax < 0 && bx < 0) || (ax > W && bx > W) || (ay < 0 && by < 0) || (ay > H && by > H)) continue;
      out[n++] = e;
    }
    return out.subarray(0, n);
  };

  Viewer.prototype.drawLabels = function (ctx) {
    var g = this.g, st = this.st, cand = [];
    if (st.labelDensity <= 0) return;
    for (var i = 0; i < g.n; i++) {
      if (!this.visible[i]) continue;
      var x = this.SX[i], y = this.SY[i];
      if (x < MARGIN.left || x > this.W || y < 0 || y > this.H - MARGIN.bottom) continue;
      cand.push(i);
    }
    var infl = g.infl, kind = g.kind;
    cand.sort(function (a, b) {
      var pa = kind[a] === KIND_LOGIT ? -1 : (isNaN(infl[a]) ? 2 : infl[a]);
      var pb = kind[b] === KIND_LOGIT ? -1 : (isNaN(infl[b]) ? 2 : infl[b]);
      return pa - pb || a - b;
    });
    var want = Math.ceil(cand.length * st.labelDensity), placed = [], cell = 40, occ = new Map();
    function occupy(box) {
      for (var gx = Math.floor(box[0] / cell); gx <= Math.floor((box[0] + box[2]) / cell); gx++) {
        for (var gy = Math.floor(box[1] / cell); gy <= Math.floor((box[1] + box[3]) / cell); gy++) {
          var key = gx + ',' + gy;
          if (!occ.has(key)) occ.set(key, []);
          occ.get(key).push(box);
        }
      }
    }
    // labels never cover a node glyph, nor another label
    for (var c0 = 0; c0 < cand.length; c0++) {
      var j = cand[c0], rj = this.radius(j);
      occupy([this.SX[j] - rj, this.SY[j] - rj, 2 * rj, 2 * rj]);
    }
    ctx.font = '10px system-ui, sans-serif'; ctx.textAlign = 'left'; ctx.textBaseline = 'middle';
    for (var c = 0; c < cand.length && placed.length < want; c++) {
      i = cand[c];
      if (kind[i] === KIND_EMB) continue;  // tokens are written under the columns
      var text = truncate(displayLabel(g, i), 28), w = ctx.measureText(text).width;
      var bx = this.SX[i] + this.radius(i) + 1.5, by = this.SY[i] - 6, bw = w, bh = 12, clash = false;
      for (var gx = Math.floor(bx / cell); gx <= Math.floor((bx + bw) / cell) && !clash; gx++) {
        for (var gy = Math.floor(by / cell); gy <= Math.floor((by + bh) / cell); gy++) {
          var boxes = occ.get(gx + ',' + gy);
          if (boxes) for (var k = 0; k < boxes.length; k++) {
            var o = boxes[k];
            if (bx < o[0] + o[2] && o[0] < bx + bw && by < o[1] + o[3] && o[1] < by + bh) { clash = true; break; }
          }
          if (clash) break;
        }
      }
      if (clash) continue;
      occupy([bx, by, bw, bh]);
      placed.push({ i: i, x: bx, y: this.SY[i], text: text });
    }
    ctx.lineWidth = 3; ctx.strokeStyle = 'rgba(255,255,255,0.85)'; ctx.fillStyle = '#111827';
    placed.forEach(function (p) { ctx.strokeText(p.text, p.x, p.y); ctx.fillText(p.text, p.x, p.y); });
    this.scene.labels = placed;
  };

  Viewer.prototype.drawTokens = function (ctx, plotBottom) {
    var g = this.g, geo = this.geo, L = g.layout, toks = g.tokens, out = [], lastEdge = -Infinity;
    ctx.textBaseline = 'top';
    for (var p = 0; p < L.columnLeft.length; p++) {
      var cx = geo.ox + (L.columnLeft[p] + L.columnWidth[p] / 2) * geo.ux;
      var avail = (L.columnWidth[p] + 0.9) * geo.ux;
      if (cx < MARGIN.left - avail || cx > this.W + avail) continue;
      var text = toks[p] != null ? showToken(toks[p]) : String(p);
      var size = Math.max(7, Math.min(13, avail / Math.max(text.length * 0.62, 1)));
      ctx.font = size.toFixed(1) + 'px system-ui, sans-serif';
      var rotated = ctx.measureText(text).width > avail;
      if (rotated) { size = Math.max(7, Math.min(11, avail * 1.3)); text = truncate(text, 14);
        ctx.font = size.toFixed(1) + 'px system-ui, sans-serif'; }
      // thin out tokens that would overlap the previous one (zooming in brings them back)
      var halfWidth = rotated ? size * 0.6 : ctx.measureText(text).width / 2;
      if (cx - halfWidth < lastEdge + 2) continue;
      lastEdge = cx + halfWidth;
      ctx.fillStyle = '#111827';
      if (rotated) {
        ctx.save(); ctx.translate(cx, plotBottom + 6); ctx.rotate(-Math.PI / 4); ctx.textAlign = 'right';
        ctx.fillText(text, 0, 0); ctx.restore();
      } else {
        ctx.textAlign = 'center'; ctx.fillText(text, cx, plotBottom + 6);
      }
      out.push({ x: cx, y: plotBottom + 6, text: text, size: size, rotated: rotated, pos: p });
    }
    this.scene.tokens = out;
  };

  Viewer.prototype.nodeLinks = function (i) {
    var g = this.g, out = [], minW = this.st.minWeight, vis = this.visible;
    [g.out, g.inn].forEach(function (adj) {
      for (var p = adj.start[i], c = 0; p < adj.start[i + 1] && c < NODE_LINK_BUDGET / 2; p++) {
        var e = adj.list[p];
        if (Math.abs(g.w[e]) < minW) break;  // lists are sorted by |w|
        if (vis[g.src[e]] && vis[g.tgt[e]]) { out.push(e); c++; }
      }
    });
    return out;
  };

  Viewer.prototype.drawOverlay = function () {
    if (!this.W || !this.SX) return;
    var g = this.g, st = this.st, ctx = this.over.getContext('2d'), SX = this.SX, SY = this.SY, self = this;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.W, this.H);
    function ring(i, color, extra, width) {
      if (!self.visible[i]) return;
      ctx.beginPath(); ctx.arc(SX[i], SY[i], self.radius(i) + extra, 0, 6.2832);
      ctx.strokeStyle = color; ctx.lineWidth = width || 2; ctx.stroke();
    }
    function links(i, strong) {
      var es = self.nodeLinks(i);
      ctx.lineCap = 'round';
      for (var q = es.length - 1; q >= 0; q--) {
        var e = es[q], ls = linkStyle(g.w[e], g.maxW);
        ctx.strokeStyle = 'rgba(' + (g.w[e] >= 0 ? POS_RGB : NEG_RGB) + ',' + (strong ? 0.35 + 0.6 * ls.alpha : 0.3 + ls.alpha * 0.5) + ')';
        ctx.lineWidth = ls.width + (strong ? 1 : 0.5);
        ctx.beginPath(); ctx.moveTo(SX[g.src[e]], SY[g.src[e]]); ctx.lineTo(SX[g.tgt[e]], SY[g.tgt[e]]); ctx.stroke();
      }
      return es;
    }
    var dim = st.selected >= 0 || st.hover >= 0;
    if (dim) { ctx.fillStyle = 'rgba(255,255,255,0.55)'; ctx.fillRect(MARGIN.left, 0, this.W - MARGIN.left, this.H - MARGIN.bottom); }
    this.overlayLinks = 0;
    if (st.selected >= 0 && this.visible[st.selected]) this.overlayLinks += links(st.selected, true).length;
    if (st.hover >= 0 && st.hover !== st.selected) this.overlayLinks += links(st.hover, false).length;
    st.clusters.forEach(function (k) {
      var s = g.supernodes[k];
      if (s) s.members.forEach(function (i) { ring(i, s.color, 3, 2.5); });
    });
    this.hits.forEach(function (i) {
      if (!self.visible[i]) return;
      ctx.beginPath(); ctx.arc(SX[i], SY[i], self.radius(i) + 4, 0, 6.2832);
      ctx.fillStyle = 'rgba(250,204,21,0.45)'; ctx.fill(); ctx.strokeStyle = '#ca8a04'; ctx.lineWidth = 1.5; ctx.stroke();
    });
    st.pinned.forEach(function (i) {
      if (!self.visible[i]) return;
      ctx.beginPath(); ctx.arc(SX[i] + self.radius(i), SY[i] - self.radius(i), 2.6, 0, 6.2832);
      ctx.fillStyle = '#7c3aed'; ctx.fill();
    });
    [st.hover, st.selected].forEach(function (i, k) {
      if (i < 0 || !self.visible[i]) return;
      ctx.beginPath(); glyph(ctx, g.kind[i], SX[i], SY[i], self.radius(i));
      ctx.fillStyle = KIND_COLOR[g.kind[i]]; ctx.fill();
      ring(i, k ? '#111827' : '#2563eb', 2.5, k ? 2.5 : 2);
    });
  };

  // ---------------------------------------------------------------- interaction
  Viewer.prototype.bindPlot = function () {
    var self = this, st = this.st, plot = this.plot, drag = null;
    function local(ev) { var r = plot.getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top]; }
    plot.addEventListener('mousemove', function (ev) {
      var p = local(ev);
      if (drag) {
        var dx = p[0] - drag.x, dy = p[1] - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
        if (drag.moved) { st.tx = drag.tx + dx; st.ty = drag.ty + dy; self.drawMoving(); }
        return;
      }
      self.hoverAt(p[0], p[1], ev.clientX, ev.clientY);
    });
    plot.addEventListener('mouseleave', function () { self.setHover(-1); });
    plot.addEventListener('mousedown', function (ev) {
      var p = local(ev); drag = { x: p[0], y: p[1], tx: st.tx, ty: st.ty, moved: false };
    });
    window.addEventListener('mouseup', function (ev) {
      var d = drag; drag = null;
      if (!d || d.moved || ev.target.closest('.ag-plot') !== plot) return;
      var p = local(ev), i = self.nearest(p[0], p[1], self.hitRadius());
      if (ev.ctrlKey || ev.metaKey) { if (i >= 0) self.togglePin(i); }
      else self.select(i);
    });
    plot.addEventListener('wheel', function (ev) {
      ev.preventDefault();
      var p = local(ev), f = Math.exp(-ev.deltaY * 0.0015), k = Math.min(40, Math.max(1, st.k * f));
      f = k / st.k;
      st.tx = p[0] - MARGIN.left - (p[0] - MARGIN.left - st.tx) * f;
      st.ty = p[1] - MARGIN.top - (p[1] - MARGIN.top - st.ty) * f;
      st.k = k;
      if (k === 1) { st.tx = 0; st.ty = 0; }
      self.drawMoving();
    }, { passive: false });
    plot.addEventListener('dblclick', function () { st.k = 1; st.tx = 0; st.ty = 0; self.draw(); });
  };
  /** Redraw during a drag or zoom with a small link budget; the full picture follows once it settles. */
  Viewer.prototype.drawMoving = function () {
    var self = this;
    this.moving = true;
    this.draw();
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(function () { self.moving = false; self.draw(); }, SETTLE_MS);
  };
  Viewer.prototype.hitRadius = function () { return Math.max(8, this.st.nodeSize * 1.6); };
  Viewer.prototype.hoverAt = function (x, y, clientX, clientY) {
    var t0 = performance.now();
    var i = this.nearest(x, y, this.hitRadius());
    this.setHover(i, x, y);
    var dt = performance.now() - t0;
    this.metrics.lastHoverMs = dt;
    this.hoverTimes.push(dt);
    if (this.hoverTimes.length > 500) this.hoverTimes.shift();
    return i;
  };
  Viewer.prototype.setHover = function (i, x, y) {
    var g = this.g, tip = this.tooltip;
    if (i === this.st.hover) { if (i >= 0) this.placeTooltip(x, y); return; }
    this.st.hover = i;
    if (i < 0) { tip.style.display = 'none'; this.drawOverlay(); return; }
    tip.textContent = '';
    var act = g.act[i], meta = ['id ' + g.ids[i], layerName(g, i) + ' · pos ' + g.pos[i] +
      (g.tokens[g.pos[i]] != null ? ' "' + truncate(showToken(g.tokens[g.pos[i]]), 20) + '"' : ''),
      KIND_NAME[g.kind[i]] + (isNaN(act) ? '' : ' · activation ' + fmt(act)) +
      (isNaN(g.infl[i]) ? '' : ' · influence ' + fmt(g.infl[i]))];
    tip.append(h('div', { cls: 't', text: displayLabel(g, i) }));
    meta.forEach(function (m) { tip.append(h('div', { cls: 'm', text: m })); });
    tip.style.display = 'block';
    this.placeTooltip(x, y);
    this.drawOverlay();
  };
  Viewer.prototype.placeTooltip = function (x, y) {
    if (x == null) { x = this.SX[this.st.hover]; y = this.SY[this.st.hover]; }
    var tw = this.tooltip.offsetWidth, th = this.tooltip.offsetHeight;
    var left = x + 14 + tw > this.W ? x - 14 - tw : x + 14, top = Math.min(Math.max(4, y + 12), this.H - th - 4);
    this.tooltip.style.left = Math.max(2, left) + 'px'; this.tooltip.style.top = top + 'px';
  };
  Viewer.prototype.select = function (i) {
    if (i == null || i < -1 || i >= this.g.n) i = -1;
    this.st.selected = i;
    if (i >= 0 && !this.visible[i]) { this.recompute(); return; }
    this.drawOverlay(); this.renderPanels(); this.writeHash();
  };
  Viewer.prototype.togglePin = function (i) {
    if (this.st.pinned.has(i)) this.st.pinned.delete(i); else this.st.pinned.add(i);
    this.drawOverlay(); this.renderPanels(); this.writeHash();
  };
  Viewer.prototype.toggleCluster = function (k) {
    if (this.st.clusters.has(k)) this.st.clusters.delete(k); else this.st.clusters.add(k);
    this.drawOverlay(); this.renderClusters(); this.writeHash();
  };

  // ---------------------------------------------------------------- side panels
  Viewer.prototype.renderPanels = function () { this.renderDetail(); this.renderClusters(); this.renderSubgraph(); };

  Viewer.prototype.renderDetail = function () {
    var self = this, g = this.g, i = this.st.selected, box = this.detail;
    box.textContent = '';
    box.append(h('h3', { text: 'Node' }));
    if (i < 0) { box.append(h('div', { cls: 'ag-empty', text: 'Click a node to see it here; ctrl/cmd-click pins it.' })); return; }
    var input = h('input', { cls: 'ag-label-input', id: 'ag-label-edit', type: 'text', 'aria-label': 'Label',
      placeholder: 'Add a label…' });
    input.value = g.labels[i];
    input.addEventListener('change', function () { self.setLabel(i, input.value); });
    input.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { self.setLabel(i, input.value); input.blur(); } });
    var shown = h('div', { cls: 'ag-node-label', id: 'ag-detail-label', text: displayLabel(g, i) });
    var dl = h('dl', { cls: 'ag-kv' });
    var rows = [['id', g.ids[i]], ['type', g.featureType[i] || KIND_NAME[g.kind[i]]], ['layer', layerName(g, i)],
      ['position', g.pos[i] + (g.tokens[g.pos[i]] != null ? '  "' + showToken(g.tokens[g.pos[i]]) + '"' : '')],
      ['activation', fmt(g.act[i])], ['influence', fmt(g.infl[i])]];
    if (g.kind[i] === KIND_LOGIT) rows.push(['probability', fmt(g.prob[i])]);
    if (g.kind[i] === KIND_FEAT && g.feature[i] >= 0) rows.push(['feature', 'L' + g.layer[i] + ' #' + g.feature[i]]);
    rows.forEach(function (r) { dl.append(h('dt', { text: r[0] }), h('dd', { text: r[1] })); });
    var pin = h('button', { cls: 'ag-btn', id: 'ag-pin', type: 'button', onclick: function () { self.togglePin(i); } },
      this.st.pinned.has(i) ? 'Unpin' : 'Pin');
    box.append(input, shown, dl, h('div', { style: 'margin:6px 0' }, pin));
    function edgeList(title, adj, other) {
      var ul = h('ul', { cls: 'ag-edges' }), count = 0;
      for (var p = adj.start[i]; p < adj.start[i + 1] && count < 10; p++, count++) {
        var e = adj.list[p], j = other[e], w = g.w[e];
        (function (j) {
          ul.append(h('li', { 'data-node': g.ids[j], title: g.ids[j], onclick: function () { self.select(j); } },
            h('span', { cls: 'w ' + (w >= 0 ? 'pos' : 'neg'), text: (w >= 0 ? '+' : '') + fmt(w) }),
            h('span', { cls: 'l', text: displayLabel(g, j) + ' (' + layerName(g, j) + ')' })));
        })(j);
      }
      var total = adj.start[i + 1] - adj.start[i];
      box.append(h('div', { cls: 'ag-sub', text: title + ' (' + total + ')' }), count ? ul : h('div', { cls: 'ag-empty', text: 'none' }));
    }
    edgeList('Strongest inputs', g.inn, g.src);
    edgeList('Strongest outputs', g.out, g.tgt);
    var key = g.detailKey[i], details = key != null && g.extra.feature_details ? g.extra.feature_details[key] : null;
    if (details && typeof details === 'object') box.append(this.featureDetails(details));
  };

  Viewer.prototype.featureDetails = function (d) {
    var wrap = h('div', { id: 'ag-feature-details' }, h('h3', { text: 'Feature details', style: 'margin-top:10px' }));
    var density = [d.density, d.act_density, d.frac_nonzero].find(function (v) { return typeof v === 'number'; });
    if (density != null) wrap.append(h('div', { cls: 'ag-sub', text: 'density ' + fmt(density, 5) }));
    [['top_logits', 'Top logits', 'top'], ['bottom_logits', 'Bottom logits', 'bottom']].forEach(function (spec) {
      var arr = d[spec[0]];
      if (!Array.isArray(arr) || !arr.length) return;
      var div = h('div', { cls: 'ag-logits ' + spec[2] });
      arr.slice(0, 12).forEach(function (t) { div.append(h('span', { text: showToken(t) })); });
      wrap.append(h('div', { cls: 'ag-sub', text: spec[1] }), div);
    });
    (Array.isArray(d.examples_quantiles) ? d.examples_quantiles : []).slice(0, 3).forEach(function (qtl) {
      var ex = Array.isArray(qtl.examples) ? qtl.examples : [];
      if (!ex.length) return;
      wrap.append(h('div', { cls: 'ag-sub', text: String(qtl.quantile_name || 'examples') }));
      ex.slice(0, 5).forEach(function (x) {
        var toks = Array.isArray(x.tokens) ? x.tokens : [], acts = Array.isArray(x.tokens_acts_list) ? x.tokens_acts_list : [];
        var mx = Math.max.apply(null, acts.map(function (a) { return +a || 0; }).concat([1e-9]));
        var line = h('div', { cls: 'ag-example' });
        toks.forEach(function (t, k) {
          var a = Math.max(0, +acts[k] || 0) / mx, span = h('span', { text: showToken(t) });
          if (a > 0) { span.style.background = 'rgba(249,115,22,' + (0.12 + 0.75 * a).toFixed(2) + ')'; span.title = fmt(+acts[k]); }
          line.append(span);
        });
        wrap.append(line);
      });
    });
    return wrap;
  };

  Viewer.prototype.setLabel = function (i, text) {
    if (this.g.labels[i] === text) return;
    this.g.labels[i] = String(text);
    this.edited = (this.edited || 0) + 1;
    this.draw(); this.renderPanels(); this.search();
  };

  Viewer.prototype.renderClusters = function () {
    var self = this, g = this.g, box = this.clusterBox;
    box.textContent = '';
    box.append(h('h3', { text: 'Clusters (' + g.supernodes.length + ')' }));
    if (!g.supernodes.length) { box.append(h('div', { cls: 'ag-empty', text: 'No supernodes in this graph (qParams.supernodes).' })); return; }
    var ul = h('ul', { cls: 'ag-clusters' });
    g.supernodes.forEach(function (s, k) {
      var li = h('li', { 'data-cluster': String(k), style: 'color:' + s.color, onclick: function () { self.toggleCluster(k); } },
        h('span', { cls: 'ag-swatch', style: 'background:' + s.color }),
        h('span', { text: s.name, style: 'color:#111827' }), h('span', { cls: 'size', text: String(s.members.length) }),
        h('button', { cls: 'ag-remove', type: 'button', title: 'Delete this supernode', 'aria-label': 'Delete ' + s.name,
          onclick: function (ev) { ev.stopPropagation(); self.removeSupernode(k); } }, '×'));
      if (self.st.clusters.has(k)) li.classList.add('active');
      li.setAttribute('aria-pressed', String(self.st.clusters.has(k)));
      ul.append(li);
    });
    box.append(ul);
  };

  /** A new supernode made of `members` (node indices); they leave the pinned set, as Neuronpedia does. */
  Viewer.prototype.addSupernode = function (name, members) {
    var g = this.g, st = this.st;
    g.supernodes.push({ name: String(name), ids: members.map(function (i) { return g.ids[i]; }),
      members: members.slice(), color: CLUSTER_COLORS[g.supernodes.length % CLUSTER_COLORS.length] });
    members.forEach(function (i) { st.pinned.delete(i); });
    st.clusters.add(g.supernodes.length - 1);
    this.drawOverlay(); this.renderPanels(); this.writeHash();
  };
  Viewer.prototype.removeSupernode = function (k) {
    var st = this.st, next = new Set();
    this.g.supernodes.splice(k, 1);
    st.clusters.forEach(function (c) { if (c !== k) next.add(c > k ? c - 1 : c); });
    st.clusters = next;
    this.drawOverlay(); this.renderPanels(); this.writeHash();
  };

  /** Pinned nodes and supernodes as boxes placed by mean column / row, links summed between them. */
  Viewer.prototype.subgraphGroups = function () {
    var g = this.g, groups = [], owner = new Map();
    g.supernodes.forEach(function (s, k) {
      if (!s.members.length) return;
      groups.push({ name: s.name, members: s.members, color: s.color, cluster: k });
      s.members.forEach(function (i) { owner.set(i, groups.length - 1); });
    });
    this.st.pinned.forEach(function (i) {
      if (owner.has(i)) return;
      groups.push({ name: displayLabel(g, i), members: [i], color: KIND_COLOR[g.kind[i]], node: i });
      owner.set(i, groups.length - 1);
    });
    var sums = new Map();
    owner.forEach(function (gi, i) {
      for (var p = g.out.start[i]; p < g.out.start[i + 1]; p++) {
        var e = g.out.list[p], gj = owner.get(g.tgt[e]);
        if (gj == null || gj === gi) continue;
        var key = gi + '>' + gj; sums.set(key, (sums.get(key) || 0) + g.w[e]);
      }
    });
    return { groups: groups, sums: sums };
  };
  Viewer.prototype.renderSubgraph = function () {
    var self = this, g = this.g, box = this.subBox, NS = 'http://www.w3.org/2000/svg';
    box.textContent = '';
    var sg = this.subgraphGroups();
    box.append(h('h3', { text: 'Subgraph (' + sg.groups.length + ')' }));
    if (!sg.groups.length) { box.append(h('div', { cls: 'ag-empty', text: 'Ctrl/cmd-click nodes to pin them; pinned nodes and supernodes appear here.' })); return; }
    var loose = Array.from(this.st.pinned).filter(function (i) {
      return !g.supernodes.some(function (s) { return s.members.indexOf(i) >= 0; });
    });
    if (loose.length) {
      var name = h('input', { cls: 'ag-search', id: 'ag-supernode-name', type: 'text', placeholder: 'Supernode name',
        'aria-label': 'Supernode name' });
      var make = h('button', { cls: 'ag-btn', id: 'ag-make-supernode', type: 'button', onclick: function () {
        self.addSupernode(name.value.trim() || 'group ' + (g.supernodes.length + 1), loose);
      } }, 'Group ' + loose.length + ' pinned');
      box.append(h('div', { style: 'display:flex;gap:6px;margin-bottom:6px' }, name, make));
    }
    var W = 336, H = 260, L = g.layout;
    function svg(tag, attrs) { var el = document.createElementNS(NS, tag); for (var k in attrs) el.setAttribute(k, attrs[k]); return el; }
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, id: 'ag-subgraph-svg' });
    sg.groups.forEach(function (gr) {
      var mx = 0, my = 0;
      gr.members.forEach(function (i) { mx += g.x[i]; my += g.y[i]; });
      gr.x = 40 + (mx / gr.members.length) / Math.max(L.width, 1) * (W - 80);
      gr.y = 16 + (my / gr.members.length) / Math.max(L.height, 1) * (H - 32);
    });
    // spread groups that land on the same spot
    sg.groups.forEach(function (a, k) {
      for (var j = 0; j < k; j++) {
        var b = sg.groups[j];
        if (Math.abs(a.x - b.x) < 60 && Math.abs(a.y - b.y) < 16) a.y = Math.min(H - 10, b.y + 18);
      }
    });
    var maxS = 0; sg.sums.forEach(function (v) { maxS = Math.max(maxS, Math.abs(v)); });
    sg.sums.forEach(function (v, key) {
      var ab = key.split('>'), a = sg.groups[+ab[0]], b = sg.groups[+ab[1]], t = Math.sqrt(Math.abs(v) / (maxS || 1));
      root.append(svg('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: v >= 0 ? '#2563eb' : '#dc2626',
        'stroke-width': (0.6 + 3 * t).toFixed(2), 'stroke-opacity': (0.3 + 0.6 * t).toFixed(2) }));
    });
    sg.groups.forEach(function (gr) {
      var grp = svg('g', { 'class': 'ag-sg-node', cursor: 'pointer' });
      var label = truncate(gr.name, 22) + (gr.members.length > 1 ? ' (' + gr.members.length + ')' : '');
      var w = Math.min(150, 12 + label.length * 5);
      grp.append(svg('rect', { x: gr.x - w / 2, y: gr.y - 8, width: w, height: 16, rx: 4, fill: '#ffffff',
        stroke: gr.color, 'stroke-width': gr.cluster != null ? 2 : 1.2 }));
      var text = svg('text', { x: gr.x, y: gr.y + 3, 'text-anchor': 'middle' });
      text.textContent = label;
      var tip = svg('title', {}); tip.textContent = gr.name; grp.append(tip);
      grp.append(text);
      grp.addEventListener('click', function () { if (gr.node != null) self.select(gr.node); else self.toggleCluster(gr.cluster); });
      root.append(grp);
    });
    box.append(root);
  };

  // ---------------------------------------------------------------- export
  Viewer.prototype.fileStem = function () {
    return (String(this.g.meta.slug || 'attrgraph').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60)) || 'attrgraph';
  };
  Viewer.prototype.svgString = function () {
    var g = this.g, W = this.W, H = this.H, SX = this.SX, SY = this.SY, self = this, sc = this.scene, out = [];
    out.push('<svg xmlns="http://www.w3.org/2000/svg" width="' + W + '" height="' + H + '" viewBox="0 0 ' + W + ' ' + H +
      '" font-family="system-ui, DejaVu Sans, sans-serif">');
    out.push('<rect width="100%" height="100%" fill="#ffffff"/>');
    sc.rows.forEach(function (r) { if (r.shade) out.push('<rect x="' + MARGIN.left + '" y="' + r.y0.toFixed(1) + '" width="' + (W - MARGIN.left) + '" height="' + r.h.toFixed(1) + '" fill="#f8fafc"/>'); });
    out.push('<g stroke-linecap="round">');
    sc.linkGroups.forEach(function (group, bb) {
      if (!group.length) return;
      var tt = ((bb % 6) + 0.5) / 6, d = [];
      group.forEach(function (e) { d.push('M' + SX[g.src[e]].toFixed(1) + ' ' + SY[g.src[e]].toFixed(1) + 'L' + SX[g.tgt[e]].toFixed(1) + ' ' + SY[g.tgt[e]].toFixed(1)); });
      out.push('<path fill="none" stroke="rgb(' + (bb < 6 ? POS_RGB : NEG_RGB) + ')" stroke-opacity="' + (0.06 + 0.64 * tt * tt).toFixed(3) +
        '" stroke-width="' + (0.3 + 2.6 * tt).toFixed(2) + '" d="' + d.join('') + '"/>');
    });
    out.push('</g><g stroke="#ffffff" stroke-width="0.8">');
    for (var i = 0; i < g.n; i++) {
      if (!this.visible[i]) continue;
      var x = SX[i], y = SY[i], r = this.radius(i), k = g.kind[i], c = KIND_COLOR[k], shape;
      if (x < -20 || x > W + 20 || y < -20 || y > H + 20) continue;
      if (k === KIND_FEAT) shape = '<circle cx="' + x.toFixed(1) + '" cy="' + y.toFixed(1) + '" r="' + r + '"';
      else if (k === KIND_EMB) shape = '<rect x="' + (x - r).toFixed(1) + '" y="' + (y - r).toFixed(1) + '" width="' + 2 * r + '" height="' + 2 * r + '"';
      else if (k === KIND_ERR) shape = '<polygon points="' + [x, y - r, x + r, y, x, y + r, x - r, y].map(function (v) { return v.toFixed(1); }).join(' ') + '"';
      else shape = '<polygon points="' + [x, y - r * 1.15, x + r, y + r * 0.7, x - r, y + r * 0.7].map(function (v) { return v.toFixed(1); }).join(' ') + '"';
      out.push(shape + ' fill="' + c + '"><title>' + xmlEscape(g.ids[i] + ' ' + displayLabel(g, i)) + '</title>' + shape.split(' ')[0].replace('<', '</') + '>');
    }
    out.push('</g><g font-size="10" fill="#111827" stroke="#ffffff" stroke-width="3" paint-order="stroke">');
    sc.labels.forEach(function (l) { out.push('<text x="' + l.x.toFixed(1) + '" y="' + (l.y + 3.5).toFixed(1) + '">' + xmlEscape(l.text) + '</text>'); });
    out.push('</g><rect x="0" y="0" width="' + (MARGIN.left - 2) + '" height="' + H + '" fill="#ffffff"/>');
    out.push('<g font-size="11" fill="#4b5563" text-anchor="end">');
    sc.rows.forEach(function (r) { if (r.shown) out.push('<text x="' + (MARGIN.left - 8) + '" y="' + (r.y0 + r.h / 2 + 4).toFixed(1) + '">' + xmlEscape(r.label) + '</text>'); });
    out.push('</g><g fill="#111827">');
    sc.tokens.forEach(function (t) {
      out.push(t.rotated
        ? '<text font-size="' + t.size.toFixed(1) + '" text-anchor="end" transform="translate(' + t.x.toFixed(1) + ' ' + (t.y + t.size).toFixed(1) + ') rotate(-45)">' + xmlEscape(t.text) + '</text>'
        : '<text font-size="' + t.size.toFixed(1) + '" text-anchor="middle" x="' + t.x.toFixed(1) + '" y="' + (t.y + t.size).toFixed(1) + '">' + xmlEscape(t.text) + '</text>');
    });
    out.push('</g>');
    if (self.st.selected >= 0 && self.visible[self.st.selected]) {
      var s = self.st.selected;
      out.push('<circle cx="' + SX[s].toFixed(1) + '" cy="' + SY[s].toFixed(1) + '" r="' + (self.radius(s) + 2.5) + '" fill="none" stroke="#111827" stroke-width="2.5"/>');
    }
    out.push('</svg>');
    return out.join('\n');
  };
  Viewer.prototype.exportSvg = function () {
    download(this.fileStem() + '.svg', new Blob([this.svgString()], { type: 'image/svg+xml' }));
  };
  Viewer.prototype.exportPng = function () {
    var self = this, c = document.createElement('canvas');
    c.width = this.base.width; c.height = this.base.height;
    var ctx = c.getContext('2d');
    ctx.fillStyle = '#ffffff'; ctx.fillRect(0, 0, c.width, c.height);
    ctx.drawImage(this.base, 0, 0); ctx.drawImage(this.over, 0, 0);
    c.toBlob(function (blob) { download(self.fileStem() + '.png', blob); }, 'image/png');
  };
  Viewer.prototype.downloadJson = function () {
    download(this.fileStem() + '.json', new Blob(graphDocumentChunks(this.g, this.st), { type: 'application/json' }));
  };

  Viewer.prototype.state = function () {
    var g = this.g, st = this.st;
    return {
      nodes: g.n, links: g.m, visibleNodes: this.visibleNodes, visibleLinks: this.visibleLinks,
      drawnLinks: this.drawnLinks, weakestDrawn: this.weakestDrawn, pinned: Array.from(st.pinned).map(function (i) { return g.ids[i]; }),
      selected: st.selected >= 0 ? g.ids[st.selected] : null, hovered: st.hover >= 0 ? g.ids[st.hover] : null,
      nodeThreshold: st.nodeThreshold, minWeight: st.minWeight, nodeSize: st.nodeSize, labelDensity: st.labelDensity,
      showErrors: st.showErrors, query: st.query, searchHits: this.hits.map(function (i) { return g.ids[i]; }),
      activeClusters: Array.from(st.clusters).sort(function (a, b) { return a - b; }).map(function (k) { return g.supernodes[k].name; }),
      supernodes: g.supernodes.map(function (s) { return [s.name].concat(s.ids); }),
      labelsShown: this.scene ? this.scene.labels.length : 0, tokensShown: this.scene ? this.scene.tokens.length : 0, overlayLinks: this.overlayLinks || 0,
      zoom: st.k, editedLabels: this.edited || 0
    };
  };

  // ---------------------------------------------------------------- public entry points
  async function render(el, data) {
    var t0 = performance.now();
    var head = typeof data.head === 'string' ? await readHead(data.head, data.headEncoding) : data.head;
    var cols = await unpack(head, data.blob);
    var t1 = performance.now();
    var g = buildGraph(head, cols);
    var t2 = performance.now();
    var viewer = new Viewer(el, head, g);
    var t3 = performance.now();
    viewer.resize();
    viewer.metrics.viewerMs = t3 - t2;
    viewer.metrics.firstDrawMs = performance.now() - t3;
    viewer.metrics.startedAt = t0;
    viewer.metrics.unpackMs = t1 - t0;
    viewer.metrics.decodeMs = t2 - t0;
    await new Promise(function (resolve) { requestAnimationFrame(function () { resolve(); }); });
    viewer.metrics.readyAt = performance.now();
    return viewer;
  }

  function api(viewerPromise) {
    var viewer = null;
    var ready = viewerPromise.then(function (v) { viewer = v; return true; });
    function need() { if (!viewer) throw new Error('attrgraph viewer not ready'); return viewer; }
    function idx(id) { var j = need().g.index.get(String(id)); if (j == null) throw new Error('no node ' + id); return j; }
    return {
      ready: ready,
      state: function () { return need().state(); },
      select: function (id) { var v = need(); v.select(id == null ? -1 : idx(id)); return v.state(); },
      pin: function (id) { need().togglePin(idx(id)); return need().state(); },
      screenPosition: function (id) {
        var v = need(), j = idx(id), r = v.plot.getBoundingClientRect();
        return { x: r.left + v.SX[j], y: r.top + v.SY[j], visible: !!v.visible[j] };
      },
      hoverTimes: function () { return need().hoverTimes.slice(); },
      /** Mean ms per nearest-node query: the grid index vs a scan of every visible node (q queries each). */
      nearestBench: function (q) {
        var v = need(), pts = [], k, t0, found = 0;
        for (k = 0; k < q; k++) pts.push([MARGIN.left + (k * 7919 % 1000) / 1000 * (v.W - MARGIN.left), (k * 104729 % 1000) / 1000 * v.H]);
        t0 = performance.now();
        for (k = 0; k < q; k++) found += v.nearest(pts[k][0], pts[k][1], v.hitRadius()) >= 0;
        var grid = (performance.now() - t0) / q;
        t0 = performance.now();
        for (k = 0; k < q; k++) {
          var best = -1, bd = v.hitRadius() * v.hitRadius();
          for (var i = 0; i < v.g.n; i++) {
            if (!v.visible[i]) continue;
            var dx = v.SX[i] - pts[k][0], dy = v.SY[i] - pts[k][1], d = dx * dx + dy * dy;
            if (d <= bd) { bd = d; best = i; }
          }
          found -= best >= 0;
        }
        return { gridMs: grid, scanMs: (performance.now() - t0) / q, agree: found === 0 };
      },
      metrics: function () { return Object.assign({}, need().metrics); },
      svg: function () { return need().svgString(); },
      graphJson: function () { return graphDocumentChunks(need().g, need().st).join(''); }
    };
  }

  window.AttrgraphViewer = { render: render };

  function boot() {
    var root = document.getElementById('attrgraph-root');
    var headEl = document.getElementById('attrgraph-head'), blobEl = document.getElementById('attrgraph-blob');
    if (!root || !headEl || !blobEl) return;
    var p = Promise.resolve().then(function () {
      return render(root, { head: headEl.textContent, headEncoding: headEl.getAttribute('data-encoding') || 'json',
        blob: blobEl.textContent.trim() });
    });
    p.catch(function (err) {
      root.textContent = '';
      root.append(h('div', { cls: 'ag-error', text: 'attrgraph: could not draw this graph: ' + (err && err.message || err) }));
      if (window.console) console.error(err);
    });
    window.attrgraph = api(p);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot); else boot();
})();
