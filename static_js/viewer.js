/* viewer.js: the Viewer: top bar, plot canvases, side panels, state changes and mouse/keyboard input.
 *
 * Every change goes through one path, `viewer.changed(kind, ...)`: it refilters when thresholds changed,
 * redraws the base layer and the overlay as needed, tells every panel (registry.js), and writes the URL hash.
 * Drawing is in draw.js, hit-testing in hit.js, the SVG export in svgexport.js, the side panels in panels/.
 * Every string from the graph is put into the page with textContent only.
 */
(function (AG) {
  'use strict';
  var core = AG.core, format = AG.format, labels = AG.labels, rank = AG.rank, S = AG.state, h = AG.dom.h;
  var fmt = format.fmt, showToken = format.showToken, truncate = format.truncate;

  function Viewer(root, head, g) {
    this.root = root; this.head = head; this.g = g;
    this.st = S.defaults(g);
    this.hits = [];
    this.metrics = {};
    this.panels = AG.registry.instantiate();
    var self = this;
    this.panels.forEach(function (p) { if (p.init) p.init(self); });
    this.readHash();
    this.buildDom();
    this.changed('all');
  }
  AG.Viewer = Viewer;

  /** A panel instance by name (null if there is none). */
  Viewer.prototype.panel = function (name) {
    for (var k = 0; k < this.panels.length; k++) if (this.panels[k].name === name) return this.panels[k];
    return null;
  };

  Viewer.prototype.buildDom = function () {
    var self = this, g = this.g, st = this.st, root = this.root;
    root.textContent = '';
    function slider(name, label, min, max, step, value, onInput) {
      var out = h('output', { 'for': name });
      var input = h('input', { type: 'range', id: name, name: name, min: min, max: max, step: step, 'aria-label': label });
      input.value = value;
      input.addEventListener('input', function () { onInput(+input.value, out); });
      onInput(+input.value, out, true);
      return { el: h('label', { cls: 'ag-ctl', title: label }, label, input, out), input: input, out: out };
    }
    this.ui = {};
    var title = this.head.title || g.meta.slug || 'Attribution graph';
    this.status = h('span', { cls: 'ag-status', id: 'ag-status' });
    var top = h('div', { cls: 'ag-top' }, h('div', { cls: 'ag-title', title: title, text: title }));
    // a display filter (hides nodes ranked past this influence share), not the graph's pruning threshold
    this.ui.displayInfluence = slider('ag-display-influence', 'Node influence', 0, 1, 0.01, st.displayInfluenceThreshold,
      function (v, out, init) {
        st.displayInfluenceThreshold = v; out.textContent = v.toFixed(2); if (!init) self.slide('filters');
      });
    this.ui.edge = slider('ag-edge-threshold', 'Min |edge|', 0, 1000, 1, S.weightToSlider(st.minWeight, g.maxW),
      function (v, out, init) {
        st.minWeight = S.sliderToWeight(v, g.maxW); out.textContent = fmt(st.minWeight, 3);
        if (!init) self.slide('filters');
      });
    this.ui.size = slider('ag-node-size', 'Node size', 1, 14, 0.5, st.nodeSize,
      function (v, out, init) { st.nodeSize = v; out.textContent = v.toFixed(1); if (!init) self.slide('style'); });
    this.ui.labels = slider('ag-label-density', 'Labels', 0, 1, 0.01, st.labelDensity,
      function (v, out, init) { st.labelDensity = v; out.textContent = Math.round(v * 100) + '%'; if (!init) self.slide('style'); });
    this.ui.search = h('input', { cls: 'ag-search', type: 'search', id: 'ag-search',
      placeholder: 'Search label or id  ( / )', 'aria-label': 'Search nodes' });
    this.ui.search.value = st.query;
    this.ui.search.addEventListener('input', function () { st.query = self.ui.search.value; self.changed('query'); });
    this.ui.search.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' && self.hits.length) self.select(self.hits[0]); });
    this.ui.hitCount = h('span', { cls: 'ag-ctl' });
    this.ui.errors = h('button', { cls: 'ag-btn', id: 'ag-toggle-errors', type: 'button',
      onclick: function () { st.showErrors = !st.showErrors; self.changed('filters'); } });
    var btn = function (id, text, fn, tip) { return h('button', { cls: 'ag-btn', id: id, type: 'button', title: tip || text, onclick: fn }, text); };
    top.append(this.ui.displayInfluence.el, this.ui.edge.el, this.ui.size.el, this.ui.labels.el, this.ui.search,
      this.ui.hitCount, this.ui.errors,
      btn('ag-reset-view', 'Fit', function () { self.resetView(); }, 'Reset zoom'),
      btn('ag-export-svg', 'SVG', function () { self.exportSvg(); }, 'Export the current view as SVG'),
      btn('ag-export-png', 'PNG', function () { self.exportPng(); }, 'Export the current view as PNG'),
      btn('ag-download-json', 'Download graph JSON', function () { self.downloadJson(); },
        'Neuronpedia-compatible graph with your labels, pins and supernodes'), this.status);

    this.plot = h('div', { cls: 'ag-plot', id: 'ag-plot' });
    this.base = h('canvas', { id: 'ag-canvas' });
    this.over = h('canvas', { id: 'ag-overlay' });
    this.tooltip = h('div', { cls: 'ag-tooltip', id: 'ag-tooltip', role: 'tooltip' });
    var legend = h('div', { cls: 'ag-legend', id: 'ag-legend' }), pal = g.palette;
    [['●', pal.feature, 'feature'], ['◆', pal.error, 'error'], ['■', pal.embedding, 'embedding'],
      ['▲', pal.logit, 'logit'], ['━', 'rgb(' + g.posRGB + ')', '+ edge'], ['━', 'rgb(' + g.negRGB + ')', '− edge']]
      .forEach(function (item) { legend.append(h('span', {}, h('b', { text: item[0], style: 'color:' + item[1] }), ' ' + item[2])); });
    this.plot.append(this.base, this.over, this.tooltip, legend);

    var side = h('div', { cls: 'ag-side' });
    this.panels.forEach(function (p) {
      var el = h('div', { cls: 'ag-section', id: 'ag-' + p.name });
      side.append(el);
      p.el = el;
      p.mount(el, self);
    });
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
      if (location.hash !== self.lastHash) { self.readHash(); self.syncControls(); self.changed('all'); }
    });
    new ResizeObserver(function () { self.resize(); }).observe(this.plot);
  };

  Viewer.prototype.syncControls = function () {
    var st = this.st, ui = this.ui;
    ui.displayInfluence.input.value = st.displayInfluenceThreshold;
    ui.displayInfluence.out.textContent = st.displayInfluenceThreshold.toFixed(2);
    ui.edge.input.value = S.weightToSlider(st.minWeight, this.g.maxW); ui.edge.out.textContent = fmt(st.minWeight, 3);
    ui.size.input.value = st.nodeSize; ui.size.out.textContent = st.nodeSize.toFixed(1);
    ui.labels.input.value = st.labelDensity; ui.labels.out.textContent = Math.round(st.labelDensity * 100) + '%';
    ui.search.value = st.query;
  };

  // ---------------------------------------------------------------- state <-> URL hash
  Viewer.prototype.readHash = function () {
    var p = S.params(location.hash), self = this;
    S.applyParams(p, this.g, this.st);
    this.panels.forEach(function (panel) { if (panel.readHash) panel.readHash(p, self); });
  };
  Viewer.prototype.writeHash = function () {
    this.hashDirty = false;
    var p = S.toParams(this.g, this.st), self = this;
    this.panels.forEach(function (panel) { if (panel.writeHash) panel.writeHash(p, self); });
    var hash = '#' + p.toString();
    if (hash !== location.hash) {
      this.lastHash = hash;
      try { history.replaceState(null, '', hash); } catch (e) { /* some file:// contexts refuse */ }
      this.lastHash = location.hash;
    }
  };

  // ---------------------------------------------------------------- the one change path
  /** Announce a change: 'all', 'filters', 'style', 'view', 'selection', 'hover', 'pins', 'labels',
   *  'supernodes', 'query' (or a panel's name). Refilters, redraws and notifies panels as needed; the URL
   *  hash follows right after (queueHash), or once a drag, zoom or slider move settles. */
  Viewer.prototype.changed = function () {
    var c = new Set(arguments), all = c.has('all'), st = this.st;
    if (c.has('selection') && st.selected >= 0 && this.visible && !this.visible[st.selected]) c.add('filters');
    if (c.has('labels') && this.forgetLabels) this.forgetLabels();
    if (all || c.has('filters')) this.filter();
    if (all || c.has('filters') || c.has('style') || c.has('labels') || c.has('view')) this.draw();
    if (all || c.has('filters') || c.has('labels') || c.has('query')) this.search();
    this.drawOverlay();
    AG.registry.notify(this.panels, st, this, c);
    if (!(c.size === 1 && c.has('hover'))) {
      this.hashDirty = true;
      if (!this.moving && !this.sliding) this.queueHash();
    }
  };

  /** A slider moved: coalesce its changes into one update per animation frame, drawn with the light link
   *  budget while the slider keeps moving; the full picture (and the URL hash) follow once it rests. */
  Viewer.prototype.slide = function (kind) {
    var self = this;
    this.pending = this.pending || new Set();
    this.pending.add(kind);
    this.sliding = true;
    if (!this.frameRequest) this.frameRequest = requestAnimationFrame(function () { self.frameRequest = 0; self.flush(); });
    clearTimeout(this.slideTimer);
    this.slideTimer = setTimeout(function () { self.sliding = false; self.flush(); self.changed('view'); }, core.SETTLE_MS);
  };
  /** Apply slider changes that wait for the next frame now (state() calls it: it reports what is current). */
  Viewer.prototype.flush = function () {
    if (this.frameRequest) { cancelAnimationFrame(this.frameRequest); this.frameRequest = 0; }
    var kinds = this.pending;
    this.pending = null;
    if (kinds && kinds.size) this.changed.apply(this, Array.from(kinds));
  };
  /** Write the URL hash after the current task (history.replaceState is slow; it never delays a frame). */
  Viewer.prototype.queueHash = function () {
    var self = this;
    if (!this.hashTimer) this.hashTimer = setTimeout(function () { self.hashTimer = 0; if (self.hashDirty) self.writeHash(); }, 0);
  };

  /** Which nodes and links pass the thresholds; links above the edge threshold are a prefix (sorted by |w|). */
  Viewer.prototype.filter = function () {
    var g = this.g, st = this.st, n = g.n, vis = new Uint8Array(n), count = 0;
    var hiders = this.panels.filter(function (p) { return typeof p.hides === 'function'; });
    for (var i = 0; i < n; i++) {
      var k = g.kind[i], inf = g.infl[i];
      var ok = k === core.KIND_EMB || k === core.KIND_LOGIT || isNaN(inf) || inf <= st.displayInfluenceThreshold + 1e-12;
      if (k === core.KIND_ERR && !st.showErrors) ok = false;
      if (ok && hiders.length && !st.pinned.has(i) && i !== st.selected) {
        for (var p = 0; p < hiders.length; p++) if (hiders[p].hides(i, this)) { ok = false; break; }
      }
      if (st.pinned.has(i) || i === st.selected) ok = ok || (k !== core.KIND_ERR || st.showErrors);
      if (ok) { vis[i] = 1; count++; }
    }
    var w = g.w, src = g.src, tgt = g.tgt, lo = 0, hi = g.m, minW = st.minWeight;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (Math.abs(w[mid]) >= minW) lo = mid + 1; else hi = mid; }
    var drawn = new Uint32Array(Math.min(lo, core.LINK_BUDGET)), cap = drawn.length, nd = 0, nv = 0;
    for (var e = 0; e < lo; e++) {
      if (vis[src[e]] & vis[tgt[e]]) { nv++; if (nd < cap) drawn[nd++] = e; }
    }
    this.visible = vis; this.visibleNodes = count; this.visibleLinks = nv; this.linkCut = lo;
    this.drawList = drawn.subarray(0, nd);
    this.ui.errors.textContent = (st.showErrors ? 'Hide' : 'Show') + ' errors (' + g.errors + ')';
    this.ui.errors.setAttribute('aria-pressed', String(st.showErrors));
    this.ui.errors.disabled = g.errors === 0;
  };

  Viewer.prototype.search = function () {
    var q = this.st.query.trim();
    this.hits = rank.search(this.g, this.visible, q);
    this.ui.hitCount.textContent = q ? this.hits.length + ' match' + (this.hits.length === 1 ? '' : 'es') : '';
  };

  Viewer.prototype.select = function (i) {
    if (i == null || i < -1 || i >= this.g.n) i = -1;
    this.st.selected = i;
    this.changed('selection');
  };
  Viewer.prototype.togglePin = function (i) {
    if (this.st.pinned.has(i)) this.st.pinned.delete(i); else this.st.pinned.add(i);
    this.changed('pins');
  };
  Viewer.prototype.setLabel = function (i, text) {
    if (!labels.setLabel(this.g, i, text)) return;
    this.edited = (this.edited || 0) + 1;
    this.changed('labels');
  };
  Viewer.prototype.resetView = function () { var st = this.st; st.k = 1; st.tx = 0; st.ty = 0; this.changed('view'); };

  // ---------------------------------------------------------------- interaction
  Viewer.prototype.bindPlot = function () {
    var self = this, st = this.st, plot = this.plot, drag = null, M = core.MARGIN;
    function local(ev) { var r = plot.getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top]; }
    plot.addEventListener('mousemove', function (ev) {
      var p = local(ev);
      if (drag) {
        var dx = p[0] - drag.x, dy = p[1] - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
        if (drag.moved) { st.tx = drag.tx + dx; st.ty = drag.ty + dy; self.drawMoving(); }
        return;
      }
      self.hoverAt(p[0], p[1]);
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
      st.tx = p[0] - M.left - (p[0] - M.left - st.tx) * f;
      st.ty = p[1] - M.top - (p[1] - M.top - st.ty) * f;
      st.k = k;
      if (k === 1) { st.tx = 0; st.ty = 0; }
      self.drawMoving();
    }, { passive: false });
    plot.addEventListener('dblclick', function () { self.resetView(); });
  };
  /** Redraw during a drag or zoom with a small link budget; the full picture follows once it settles. */
  Viewer.prototype.drawMoving = function () {
    var self = this;
    this.moving = true;
    this.changed('view');
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(function () { self.moving = false; self.changed('view'); }, core.SETTLE_MS);
  };
  Viewer.prototype.hitRadius = function () { return Math.max(8, this.st.nodeSize * 1.6); };
  Viewer.prototype.hoverAt = function (x, y) {
    var i = this.nearest(x, y, this.hitRadius());
    this.setHover(i, x, y);
    return i;
  };
  Viewer.prototype.setHover = function (i, x, y) {
    var g = this.g, tip = this.tooltip;
    if (i === this.st.hover) { if (i >= 0) this.placeTooltip(x, y); return; }
    this.st.hover = i;
    if (i < 0) { tip.style.display = 'none'; this.changed('hover'); return; }
    tip.textContent = '';
    var act = g.act[i], tok = g.tokens[g.pos[i]];
    var meta = ['id ' + g.ids[i], labels.layerName(g, i) + ' · pos ' + g.pos[i] + (tok != null ? ' "' + truncate(showToken(tok), 20) + '"' : ''),
      core.KIND_NAME[g.kind[i]] + (isNaN(act) ? '' : ' · activation ' + fmt(act)) + (isNaN(g.infl[i]) ? '' : ' · influence ' + fmt(g.infl[i]))];
    tip.append(h('div', { cls: 't', text: labels.displayLabel(g, i) }));
    meta.forEach(function (m) { tip.append(h('div', { cls: 'm', text: m })); });
    tip.style.display = 'block';
    this.placeTooltip(x, y);
    this.changed('hover');
  };
  Viewer.prototype.placeTooltip = function (x, y) {
    if (x == null) { x = this.SX[this.st.hover]; y = this.SY[this.st.hover]; }
    var tw = this.tooltip.offsetWidth, th = this.tooltip.offsetHeight;
    var left = x + 14 + tw > this.W ? x - 14 - tw : x + 14, top = Math.min(Math.max(4, y + 12), this.H - th - 4);
    this.tooltip.style.left = Math.max(2, left) + 'px'; this.tooltip.style.top = top + 'px';
  };

  // ---------------------------------------------------------------- export and state
  Viewer.prototype.fileStem = function () {
    return (String(this.g.meta.slug || 'attrgraph').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60)) || 'attrgraph';
  };
  Viewer.prototype.exportSvg = function () {
    AG.dom.download(this.fileStem() + '.svg', new Blob([this.svgString()], { type: 'image/svg+xml' }));
  };
  Viewer.prototype.exportPng = function () {
    var self = this, c = document.createElement('canvas');
    c.width = this.base.width; c.height = this.base.height;
    var ctx = c.getContext('2d');
    ctx.fillStyle = '#ffffff'; ctx.fillRect(0, 0, c.width, c.height);
    ctx.drawImage(this.base, 0, 0); ctx.drawImage(this.over, 0, 0);
    c.toBlob(function (blob) { AG.dom.download(self.fileStem() + '.png', blob); }, 'image/png');
  };
  Viewer.prototype.documentChunks = function () { return AG.jsonwriter.documentChunks(this.g, this.st); };
  Viewer.prototype.downloadJson = function () {
    AG.dom.download(this.fileStem() + '.json', new Blob(this.documentChunks(), { type: 'application/json' }));
  };

  Viewer.prototype.state = function () {
    this.flush();
    if (this.hashDirty) { clearTimeout(this.hashTimer); this.hashTimer = 0; this.writeHash(); }
    var g = this.g, st = this.st, ids = function (i) { return g.ids[i]; };
    return Object.assign({
      nodes: g.n, links: g.m, visibleNodes: this.visibleNodes, visibleLinks: this.visibleLinks,
      drawnLinks: this.drawnLinks, weakestDrawn: this.weakestDrawn, pinned: Array.from(st.pinned).map(ids),
      selected: st.selected >= 0 ? g.ids[st.selected] : null, hovered: st.hover >= 0 ? g.ids[st.hover] : null,
      displayInfluenceThreshold: st.displayInfluenceThreshold, minWeight: st.minWeight, nodeSize: st.nodeSize, labelDensity: st.labelDensity,
      showErrors: st.showErrors, query: st.query, searchHits: this.hits.map(ids),
      labelsShown: this.scene ? this.scene.labels.length : 0, tokensShown: this.scene ? this.scene.tokens.length : 0,
      overlayLinks: this.overlayLinks || 0, zoom: st.k, editedLabels: this.edited || 0
    }, AG.registry.collectState(this.panels, this));
  };
})(AG);
