/* draw.js: layout to screen, and the two canvases: the base layer (layer bands, links batched by sign and
 * strength, node glyphs batched by kind and colour, labels, tokens) and the overlay (selection, hover,
 * search hits, pins, and whatever panels draw there). Links are sorted by |w|, so "the strongest k" is a prefix.
 */
(function (AG) {
  'use strict';
  var core = AG.core, format = AG.format, labels = AG.labels, rank = AG.rank, P = AG.Viewer.prototype;

  // ---------------------------------------------------------------- geometry
  P.resize = function () {
    var r = this.plot.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    var W = Math.max(200, r.width), H = Math.max(160, r.height);
    if (W === this.W && H === this.H && dpr === this.dpr) return;  // e.g. the ResizeObserver's first call
    this.W = W; this.H = H; this.dpr = dpr;
    [this.base, this.over].forEach(function (c) {
      c.width = Math.round(this.W * dpr); c.height = Math.round(this.H * dpr);
      c.style.width = this.W + 'px'; c.style.height = this.H + 'px';
    }, this);
    this.changed('view');
  };
  P.geometry = function () {
    var L = this.g.layout, st = this.st;
    var pw = this.W - core.MARGIN.left - core.MARGIN.right, ph = this.H - core.MARGIN.top - core.MARGIN.bottom;
    var ux = pw / Math.max(L.width, 1), uy = ph / Math.max(L.height, 1);
    return {
      ux: ux * st.k, uy: uy * st.k,
      ox: core.MARGIN.left + st.tx, oy: core.MARGIN.top + st.ty,
      sx: function (x) { return core.MARGIN.left + st.tx + x * ux * st.k; },
      sy: function (y) { return core.MARGIN.top + st.ty + y * uy * st.k; }
    };
  };
  P.project = function () {
    var g = this.g, geo = this.geometry(), n = g.n;
    var SX = this.SX && this.SX.length === n ? this.SX : new Float32Array(n);
    var SY = this.SY && this.SY.length === n ? this.SY : new Float32Array(n);
    for (var i = 0; i < n; i++) { SX[i] = geo.ox + g.x[i] * geo.ux; SY[i] = geo.oy + g.y[i] * geo.uy; }
    this.SX = SX; this.SY = SY; this.geo = geo;
    this.buildGrid();
  };
  /** Glyph radius: the node-size control, shrunk when slots are narrower than that (zoom restores it). */
  P.radius = function (i) {
    var k = this.g.kind[i], r = this.st.nodeSize;
    if (this.geo) r = Math.min(r, Math.max(1.5, 0.46 * Math.min(this.geo.ux, this.geo.uy)));
    return k === core.KIND_FEAT ? r : r * 1.15;
  };

  // ---------------------------------------------------------------- drawing
  function glyph(ctx, kind, x, y, r) {
    if (kind === core.KIND_FEAT) { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 6.2832); }
    else if (kind === core.KIND_ERR) { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath(); }
    else if (kind === core.KIND_EMB) { ctx.rect(x - r, y - r, 2 * r, 2 * r); }
    else { ctx.moveTo(x, y - r * 1.15); ctx.lineTo(x + r, y + r * 0.7); ctx.lineTo(x - r, y + r * 0.7); ctx.closePath(); }
  }
  /** Stroke of width bucket `bb` (0-5 positive, 6-11 negative): its width and alpha (as the SVG export
   *  draws it), and as hairlines: how many parallel 1-px lines, at which alpha. */
  function bucketStyle(bb) {
    var tt = ((bb % 6) + 0.5) / 6, width = 0.3 + 2.6 * tt, alpha = 0.06 + 0.64 * tt * tt;
    return { width: width, alpha: alpha, lanes: Math.max(1, Math.round(width)), hairAlpha: width < 1 ? alpha * width : alpha };
  }
  P.bucketStyle = bucketStyle;
  function linkStyle(w, maxW) {
    var t = Math.sqrt(Math.min(Math.abs(w) / (maxW || 1), 1));
    return { bucket: Math.min(5, Math.floor(t * 6)), width: 0.35 + 2.8 * t, alpha: 0.12 + 0.6 * t };
  }

  P.draw = function () {
    if (!this.W) return;
    var t0 = performance.now();
    var g = this.g, st = this.st, ctx = this.base.getContext('2d'), dpr = this.dpr;
    this.project();
    var geo = this.geo, SX = this.SX, SY = this.SY, L = g.layout, W = this.W, H = this.H;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#ffffff'; ctx.fillRect(0, 0, W, H);
    this.scene = { rows: [], links: [], nodes: [], labels: [], tokens: [] };
    var plotBottom = H - core.MARGIN.bottom;
    // layer bands and row labels
    ctx.font = '11px system-ui, sans-serif'; ctx.textBaseline = 'middle'; ctx.textAlign = 'right';
    for (var r = 0; r < L.rowLabels.length; r++) {
      var y0 = geo.oy + r * geo.uy, y1 = y0 + geo.uy;
      if (y1 < 0 || y0 > plotBottom) continue;
      if (r % 2 === 0) { ctx.fillStyle = '#f8fafc'; ctx.fillRect(core.MARGIN.left, y0, W - core.MARGIN.left, geo.uy); }
      this.scene.rows.push({ y0: y0, h: geo.uy, label: L.rowLabels[r], shade: r % 2 === 0 });
    }
    // columns: faint separators
    ctx.strokeStyle = '#eef0f3'; ctx.lineWidth = 1; ctx.beginPath();
    for (var c = 1; c < L.columnLeft.length; c++) {
      var xs = geo.ox + (L.columnLeft[c] - 0.5) * geo.ux;
      if (xs > core.MARGIN.left && xs < W) { ctx.moveTo(xs, core.MARGIN.top); ctx.lineTo(xs, plotBottom); }
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
    // Each bucket is one path of 1-px lines: a link k px wide is k parallel hairlines, one thinner than 1 px
    // is a hairline with its alpha scaled by its width. Software rasterisers (headless Chromium, no GPU) draw
    // hairlines about ten times faster than wide strokes; the picture is the same to the eye.
    ctx.lineCap = 'butt'; ctx.lineWidth = 1;
    for (b = 11; b >= 0; b--) {  // faint first, strong last; negative before positive of same strength
      var bb = (b % 2 === 0) ? (b >> 1) : 6 + (b >> 1);
      var group = paths[bb];
      if (!group.length) continue;
      var st6 = bucketStyle(bb), lanes = st6.lanes, half = (lanes - 1) / 2;
      ctx.strokeStyle = 'rgba(' + (bb < 6 ? g.posRGB : g.negRGB) + ',' + st6.hairAlpha.toFixed(3) + ')';
      ctx.beginPath();
      for (q = 0; q < group.length; q++) {
        e = group[q];
        var x0 = SX[g.src[e]], y0 = SY[g.src[e]], x1 = SX[g.tgt[e]], y1 = SY[g.tgt[e]];
        if (lanes === 1) { ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); continue; }
        var nx = y1 - y0, ny = x0 - x1, len = Math.sqrt(nx * nx + ny * ny) || 1;
        nx /= len; ny /= len;
        for (var lane = 0; lane < lanes; lane++) {
          var o = lane - half;
          ctx.moveTo(x0 + o * nx, y0 + o * ny); ctx.lineTo(x1 + o * nx, y1 + o * ny);
        }
      }
      ctx.stroke();
    }
    this.scene.linkGroups = paths;
    this.drawnLinks = list.length - culled;
    // nodes, one path per kind and colour
    for (var kind = 0; kind < 4; kind++) {
      var byColor = new Map();
      for (var i = 0; i < g.n; i++) {
        if (g.kind[i] !== kind || !this.visible[i]) continue;
        var x = SX[i], y = SY[i];
        if (x < -20 || x > W + 20 || y < -20 || y > H + 20) continue;
        var col = labels.nodeColor(g, i), bucket = byColor.get(col);
        if (!bucket) byColor.set(col, bucket = []);
        bucket.push(i);
      }
      byColor.forEach(function (nodes, color) {
        ctx.beginPath();
        for (var q = 0; q < nodes.length; q++) glyph(ctx, kind, SX[nodes[q]], SY[nodes[q]], this.radius(nodes[q]));
        ctx.fillStyle = color; ctx.fill();
        ctx.strokeStyle = '#ffffff'; ctx.lineWidth = 0.8; ctx.stroke();
      }, this);
    }
    this.drawLabels(ctx);
    // gutter: row labels on the left, tokens below (drawn over anything that was zoomed into them)
    ctx.fillStyle = '#ffffff'; ctx.fillRect(0, 0, core.MARGIN.left - 2, H); ctx.fillRect(0, plotBottom, W, H - plotBottom);
    ctx.fillStyle = '#4b5563'; ctx.font = '11px system-ui, sans-serif'; ctx.textAlign = 'right';
    var step = Math.max(1, Math.ceil(12 / Math.max(geo.uy, 1)));
    this.scene.rows.forEach(function (row, k) {
      var ry = row.y0 + row.h / 2;
      if (ry < core.MARGIN.top - 2 || ry > plotBottom) return;
      if (row.label !== 'Logits' && row.label !== 'Emb' && k % step) return;
      ctx.fillText(row.label, core.MARGIN.left - 8, ry); row.shown = true;
    });
    this.drawTokens(ctx, plotBottom);
    ctx.strokeStyle = '#d1d5db'; ctx.beginPath(); ctx.moveTo(core.MARGIN.left - 2, plotBottom + 0.5);
    ctx.lineTo(W, plotBottom + 0.5); ctx.stroke();
    this.status.textContent = this.visibleNodes + ' / ' + g.n + ' nodes · ' + this.visibleLinks + ' / ' + g.m +
      ' links' + (this.visibleLinks > list.length ? ' (strongest ' + this.drawnLinks + ' in view drawn)' : '') +
      ' · scroll: zoom, drag: pan';
    this.metrics.lastDrawMs = performance.now() - t0;
  };

  /** Links to draw: at full view the strongest visible ones (up to the budget); zoomed in, the strongest
   *  among those that cross the view, so weaker local links appear as you zoom. */
  P.viewLinks = function () {
    var budget = this.moving || this.sliding ? core.MOVING_LINK_BUDGET : core.LINK_BUDGET;
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

  var LABEL_CELL = 4;  // label placement occupancy grid, px per cell
  /** Node indices by importance (rank.js; Python's rank), computed once. */
  function importanceOrder(g) {
    if (!g.order) {
      var all = new Array(g.n);
      for (var i = 0; i < g.n; i++) all[i] = i;
      g.order = Int32Array.from(rank.byImportance(g, all));
    }
    return g.order;
  }
  /** Place labels on the most important visible nodes in view (their share set by the label-density slider;
   *  by default all of them, as the PDF's figure: report/semantics.py Thresholds.label_density) where they
   *  cover neither a node glyph nor another label: an occupancy bitmap of 4-px cells. The logit row comes
   *  first: each logit's token above it (its short label, as the PDF writes the logit row). */
  P.drawLabels = function (ctx) {
    var g = this.g, st = this.st, SX = this.SX, SY = this.SY, vis = this.visible, kind = g.kind;
    var left = core.MARGIN.left, right = this.W, bottom = this.H - core.MARGIN.bottom, i, c;
    this.scene.labels = [];
    if (st.labelDensity <= 0) return;
    var order = importanceOrder(g), n = order.length, cand = new Int32Array(n), nc = 0;
    for (c = 0; c < n; c++) {
      i = order[c];
      if (!vis[i]) continue;
      var x = SX[i], y = SY[i];
      if (x < left || x > right || y < 0 || y > bottom) continue;
      cand[nc++] = i;
    }
    var cols = Math.ceil(this.W / LABEL_CELL) + 2, rows = Math.ceil(this.H / LABEL_CELL) + 2;
    var occ = new Uint8Array(cols * rows);
    function cells(x0, y0, x1, y1, mark) {  // any occupied cell in the box (or mark them all)
      var cx0 = Math.max(0, Math.floor(x0 / LABEL_CELL)), cx1 = Math.min(cols - 1, Math.floor(x1 / LABEL_CELL));
      var cy0 = Math.max(0, Math.floor(y0 / LABEL_CELL)), cy1 = Math.min(rows - 1, Math.floor(y1 / LABEL_CELL));
      for (var cy = cy0; cy <= cy1; cy++) {
        for (var k = cy * cols + cx0, end = cy * cols + cx1; k <= end; k++) {
          if (mark) occ[k] = 1; else if (occ[k]) return true;
        }
      }
      return false;
    }
    for (c = 0; c < nc; c++) {  // labels never cover a node glyph
      i = cand[c];
      var r = this.radius(i);
      cells(SX[i] - r, SY[i] - r, SX[i] + r, SY[i] + r, true);
    }
    var want = Math.ceil(nc * st.labelDensity), placed = [];
    if (!g.labelText || g.labelText.length !== g.n) { g.labelText = new Array(g.n); g.labelWidth = new Float32Array(g.n).fill(-1); }
    ctx.font = '10px system-ui, sans-serif'; ctx.textAlign = 'left'; ctx.textBaseline = 'middle';
    for (c = 0; c < nc && placed.length < want; c++) {  // the logit row: tokens above their nodes
      i = cand[c];
      if (kind[i] !== core.KIND_LOGIT) continue;
      var lt = format.truncate(labels.shortLabel(g, i), 16), lw = ctx.measureText(lt).width;
      // the box ends a cell above the glyph's top cell, so a node's own glyph never blocks its label
      var lx = SX[i] - lw / 2, ly = Math.floor((SY[i] - this.radius(i)) / LABEL_CELL) * LABEL_CELL - 6.5;
      if (cells(lx, ly - 6, lx + lw, ly + 6, false)) continue;
      cells(lx, ly - 6, lx + lw, ly + 6, true);
      placed.push({ i: i, x: lx, y: ly, text: lt });
    }
    for (c = 0; c < nc && placed.length < want; c++) {
      i = cand[c];
      if (kind[i] === core.KIND_EMB || kind[i] === core.KIND_LOGIT) continue;  // tokens: under the columns
      // the spots report/labels.py tries, in its order: right, left, above, below; each box starts a cell
      // beyond the glyph's cells, so a node's own glyph never blocks its label
      var r = this.radius(i), gx0 = Math.floor((SX[i] - r) / LABEL_CELL) * LABEL_CELL;
      var gx1 = (Math.floor((SX[i] + r) / LABEL_CELL) + 1) * LABEL_CELL, gy0 = Math.floor((SY[i] - r) / LABEL_CELL) * LABEL_CELL;
      var gy1 = (Math.floor((SY[i] + r) / LABEL_CELL) + 1) * LABEL_CELL;
      if (cells(gx1, SY[i] - 6, gx1 + 6, SY[i] + 6, false) && cells(gx0 - 6.5, SY[i] - 6, gx0 - 0.5, SY[i] + 6, false) &&
          cells(SX[i] - 3, gy0 - 12.5, SX[i] + 3, gy0 - 0.5, false) && cells(SX[i] - 3, gy1, SX[i] + 3, gy1 + 12, false)) continue;  // no room for one character: skip measuring
      if (g.labelWidth[i] < 0) {
        g.labelText[i] = format.truncate(labels.displayLabel(g, i), 28);
        g.labelWidth[i] = ctx.measureText(g.labelText[i]).width;
      }
      var bw = g.labelWidth[i], mid = SX[i] - bw / 2;
      var spots = [[gx1, SY[i] - 6], [gx0 - 0.5 - bw, SY[i] - 6], [mid, gy0 - 12.5], [mid, gy1]];
      for (var q = 0; q < spots.length; q++) {
        var bx = spots[q][0], by = spots[q][1];
        if (bx < left || cells(bx, by, bx + bw, by + 12, false)) continue;
        cells(bx, by, bx + bw, by + 12, true);
        placed.push({ i: i, x: bx, y: by + 6, text: g.labelText[i] });
        break;
      }
    }
    ctx.lineWidth = 3; ctx.strokeStyle = 'rgba(255,255,255,0.85)'; ctx.fillStyle = '#111827';
    placed.forEach(function (p) { ctx.strokeText(p.text, p.x, p.y); ctx.fillText(p.text, p.x, p.y); });
    this.scene.labels = placed;
  };
  /** Forget cached label texts and widths (after a label edit). */
  P.forgetLabels = function () { this.g.labelWidth = null; this.g.labelText = null; };

  P.drawTokens = function (ctx, plotBottom) {
    var g = this.g, geo = this.geo, L = g.layout, toks = g.tokens, out = [], lastEdge = -Infinity;
    ctx.textBaseline = 'top';
    for (var p = 0; p < L.columnLeft.length; p++) {
      var cx = geo.ox + (L.columnLeft[p] + L.columnWidth[p] / 2) * geo.ux;
      var avail = (L.columnWidth[p] + 0.9) * geo.ux;
      if (cx < core.MARGIN.left - avail || cx > this.W + avail) continue;
      var text = toks[p] != null ? format.showToken(toks[p]) : String(p);
      var size = Math.max(7, Math.min(13, avail / Math.max(text.length * 0.62, 1)));
      ctx.font = size.toFixed(1) + 'px system-ui, sans-serif';
      var rotated = ctx.measureText(text).width > avail;
      if (rotated) { size = Math.max(7, Math.min(11, avail * 1.3)); text = format.truncate(text, 14);
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

  P.nodeLinks = function (i) {
    var g = this.g, out = [], minW = this.st.minWeight, vis = this.visible;
    [g.out, g.inn].forEach(function (adj) {
      for (var p = adj.start[i], c = 0; p < adj.start[i + 1] && c < core.NODE_LINK_BUDGET / 2; p++) {
        var e = adj.list[p];
        if (Math.abs(g.w[e]) < minW) break;  // lists are sorted by |w|
        if (vis[g.src[e]] && vis[g.tgt[e]]) { out.push(e); c++; }
      }
    });
    return out;
  };

  P.drawOverlay = function () {
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
        ctx.strokeStyle = 'rgba(' + (g.w[e] >= 0 ? g.posRGB : g.negRGB) + ',' + (strong ? 0.35 + 0.6 * ls.alpha : 0.3 + ls.alpha * 0.5) + ')';
        ctx.lineWidth = ls.width + (strong ? 1 : 0.5);
        ctx.beginPath(); ctx.moveTo(SX[g.src[e]], SY[g.src[e]]); ctx.lineTo(SX[g.tgt[e]], SY[g.tgt[e]]); ctx.stroke();
      }
      return es;
    }
    var dim = st.selected >= 0 || st.hover >= 0;
    if (dim) { ctx.fillStyle = 'rgba(255,255,255,0.55)'; ctx.fillRect(core.MARGIN.left, 0, this.W - core.MARGIN.left, this.H - core.MARGIN.bottom); }
    this.overlayLinks = 0;
    if (st.selected >= 0 && this.visible[st.selected]) this.overlayLinks += links(st.selected, true).length;
    if (st.hover >= 0 && st.hover !== st.selected) this.overlayLinks += links(st.hover, false).length;
    this.panels.forEach(function (p) { if (p.overlay) p.overlay(ctx, self); });
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
      ctx.fillStyle = labels.nodeColor(g, i); ctx.fill();
      ring(i, k ? '#111827' : '#2563eb', 2.5, k ? 2.5 : 2);
    });
  };

})(AG);
