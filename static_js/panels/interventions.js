/* panels/interventions.js: the graph's intervention records (attrgraph.interventions, written by
 * `attrgraph intervene` or read from CLT-Forge): a list to pick from; for the picked record its spec, the
 * target logits predicted (graph) vs measured, before/after top-k bars, a sweep chart (inline SVG), and the
 * intervened nodes ringed on the graph; the `--check-supernodes` ranking; and a "steer" composer that
 * writes the exact `attrgraph intervene` command for the selected node, the pinned nodes or a supernode
 * (a static page cannot run a model). Hash key `iv`: the picked record. The records come as
 * report/views.py intervention_views builds them (head.views.interventions): every field checked and cut. */
(function (AG) {
  'use strict';
  var h = AG.dom.h, fmt = AG.format.fmt;
  var SVGNS = 'http://www.w3.org/2000/svg';
  var MAX_LIST = 200;

  /** The records as report/views.py intervention_views has them (every field checked and cut in Python). */
  function records(g) { return g.views.interventions || []; }
  function signed(x) { return x == null ? '—' : (x > 0 ? '+' : '') + fmt(x, 3); }

  /** An SVG element (attributes set, `text` as textContent: graph strings stay text). */
  function s(tag, attrs) {
    var el = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) {
      if (k === 'text') el.textContent = attrs[k]; else el.setAttribute(k, String(attrs[k]));
    }
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) el.appendChild(arguments[i]);
    return el;
  }

  /** A line chart of p(token) against the swept value, one polyline per series: the sweep view of
   *  report/views.py (series, their colours and their number are the PDF chart's). */
  function sweepChart(sweep) {
    var xs = sweep.values, series = sweep.series;
    if (xs.length < 2 || !series.length || xs.some(function (x) { return x == null; })) return null;
    var W = 280, H = 150, L = 34, R = 8, T = 8, B = 26;
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    if (x1 === x0) x1 = x0 + 1;
    var X = function (x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
    var Y = function (p) { return T + (1 - p) * (H - T - B); };
    var svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, cls: 'ag-iv-chart', class: 'ag-iv-chart', role: 'img', 'aria-label': 'sweep' });
    svg.append(s('line', { x1: L, y1: Y(0), x2: W - R, y2: Y(0), stroke: '#9ca3af' }), s('line', { x1: L, y1: T, x2: L, y2: Y(0), stroke: '#9ca3af' }));
    [0, 0.5, 1].forEach(function (p) { svg.append(s('text', { x: L - 4, y: Y(p) + 3, 'text-anchor': 'end', 'font-size': 9, text: String(p) })); });
    [x0, x1].forEach(function (x) { svg.append(s('text', { x: X(x), y: H - 12, 'text-anchor': 'middle', 'font-size': 9, text: fmt(x, 2) })); });
    svg.append(s('text', { x: (L + W - R) / 2, y: H - 2, 'text-anchor': 'middle', 'font-size': 9, text: String(sweep.parameter || 'value') }));
    series.forEach(function (ser) {
      var pts = [];
      ser.p.forEach(function (p, j) { if (p != null && j < xs.length) pts.push(X(xs[j]).toFixed(1) + ',' + Y(Math.max(0, Math.min(1, p))).toFixed(1)); });
      var line = s('polyline', { points: pts.join(' '), fill: 'none', stroke: ser.color, 'stroke-width': 1.5, 'data-token': ser.token });
      line.append(s('title', { text: 'p(' + String(ser.token) + ')' }));
      svg.append(line);
    });
    var legend = h('div', { cls: 'ag-iv-legend' });
    series.forEach(function (ser) {
      legend.append(h('span', { style: 'color:' + ser.color, text: '■ ' }), h('span', { text: JSON.stringify(ser.token) + '  ' }));
    });
    return h('div', { cls: 'ag-iv-sweep' }, svg, legend);
  }

  /** Before/after top-k as paired bars (width = probability). */
  function topBars(before, after) {
    var box = h('div', { cls: 'ag-iv-top' });
    [['before', before], ['after', after]].forEach(function (side) {
      if (!side[1].length) return;
      var col = h('div', { cls: 'ag-iv-col', 'data-side': side[0] }, h('div', { cls: 'ag-sub', text: 'top ' + side[0] }));
      side[1].forEach(function (pair) {
        var p = pair[1];
        col.append(h('div', { cls: 'ag-iv-bar' },
          h('span', { cls: 'ag-iv-fill', style: 'width:' + Math.max(0, Math.min(100, p * 100)).toFixed(1) + '%' }),
          h('span', { cls: 'ag-iv-tok', text: JSON.stringify(pair[0]) + ' ' + fmt(p, 3) })));
      });
      box.append(col);
    });
    return box;
  }

  function targetsTable(targets) {
    var t = h('table', { cls: 'ag-iv-targets' });
    t.append(h('tr', null, h('th', { text: 'target' }), h('th', { text: 'predicted Δ' }), h('th', { text: 'measured Δ' }), h('th', { text: 'flag' }), h('th', { text: 'p before → after' })));
    targets.forEach(function (x) {
      var flag = x.flag === 'sign' ? 'sign differs' : x.flag === 'magnitude' ? '> 2x apart' : '';
      t.append(h('tr', { 'data-token': x.token },
        h('td', { text: JSON.stringify(x.token) }), h('td', { text: signed(x.predicted) }),
        h('td', { text: signed(x.measured) }), h('td', { cls: 'ag-iv-flag', text: flag }),
        h('td', { text: fmt(x.p_before, 3) + ' → ' + fmt(x.p_after, 3) })));
    });
    return t;
  }

  /** The --check-supernodes ranking: one row per (supernode, op) by measured |effect|, with the control. */
  function ranking(recs) {
    var checks = recs.filter(function (r) { return r.check; });
    if (!checks.length) return null;
    checks.sort(function (a, b) { return Math.abs(b.check.effect || 0) - Math.abs(a.check.effect || 0); });
    var t = h('table', { cls: 'ag-iv-ranking', id: 'ag-iv-ranking' });
    t.append(h('tr', null, h('th', { text: 'supernode' }), h('th', { text: 'op' }), h('th', { text: 'effect' }),
      h('th', { text: 'predicted' }), h('th', { text: 'influence rank' }), h('th', { text: 'random control |effect|' })));
    checks.forEach(function (r) {
      var c = r.check;
      t.append(h('tr', { 'data-supernode': c.supernode }, h('td', { text: c.supernode }), h('td', { text: c.op }),
        h('td', { text: signed(c.effect) }), h('td', { text: signed(c.predicted) }),
        h('td', { text: c.influence_rank == null ? '—' : String(c.influence_rank) }), h('td', { text: fmt(c.control, 3) })));
    });
    return t;
  }

  /** Shell-quote one argument (POSIX single quotes unless it is plainly safe). */
  function q(x) { x = String(x); return /^[A-Za-z0-9_@:.,=*+\/-]+$/.test(x) ? x : "'" + x.replace(/'/g, "'\\''") + "'"; }

  AG.registerPanel({
    name: 'interventions',
    title: 'Interventions',
    order: 30,
    init: function () { this.sel = -1; this.steer = { target: 'selected', op: 'ablate', value: '0' }; },
    mount: function () {},
    /** The node indices a record changed (its spec's graph node ids that are in this graph). */
    nodesOf: function (rec, ctx) {
      var out = [];
      (rec ? rec.nodes : []).forEach(function (id) { var j = ctx.g.index.get(id); if (j != null) out.push(j); });
      return out;
    },
    pick: function (k, ctx) { this.sel = this.sel === k ? -1 : k; ctx.changed('interventions'); },
    /** The `attrgraph intervene` command for the composer's current choice ('' with a reason when none). */
    command: function (ctx) {
      var g = ctx.g, st = ctx.st, sv = this.steer, targets = [];
      if (sv.target === 'selected') {
        if (st.selected >= 0 && g.kind[st.selected] === AG.core.KIND_FEAT) targets.push(g.ids[st.selected]);
      } else if (sv.target === 'pinned') {
        st.pinned.forEach(function (i) { if (g.kind[i] === AG.core.KIND_FEAT) targets.push(g.ids[i]); });
      } else if (sv.target.slice(0, 3) === 'sn:') {
        var sn = g.supernodes[Number(sv.target.slice(3))];
        if (sn) targets.push(sn.name);
      }
      if (!targets.length) return { cmd: '', why: 'select a feature node, pin some, or pick a supernode' };
      var v = Number(sv.value);
      if (sv.op !== 'ablate' && (String(sv.value).trim() === '' || !isFinite(v))) return { cmd: '', why: 'enter a number' };
      var file = (g.meta.slug ? String(g.meta.slug) : 'graph') + '.json';
      var flags = targets.map(function (t) {
        if (sv.op === 'ablate') return '--ablate ' + q(t);
        if (sv.op === 'scale') return '--scale ' + q(t + '=*' + v);
        return '--set ' + q(t + '=' + v);
      });
      return { cmd: ['attrgraph intervene', q(file)].concat(flags, ['-o', q(file)]).join(' '), why: '' };
    },
    composer: function (ctx) {
      var self = this, g = ctx.g, sv = this.steer;
      var target = h('select', { id: 'ag-steer-target', onchange: function () { sv.target = this.value; self.refreshCommand(ctx); } },
        h('option', { value: 'selected', text: 'selected node' }), h('option', { value: 'pinned', text: 'pinned nodes' }));
      g.supernodes.forEach(function (sn, k) { target.append(h('option', { value: 'sn:' + k, text: 'supernode: ' + sn.name })); });
      target.value = sv.target;
      var op = h('select', { id: 'ag-steer-op', onchange: function () { sv.op = this.value; self.refreshCommand(ctx); } },
        h('option', { value: 'ablate', text: 'ablate (0)' }), h('option', { value: 'set', text: 'set to value' }),
        h('option', { value: 'scale', text: 'multiple of activation' }));
      op.value = sv.op;
      var value = h('input', { id: 'ag-steer-value', type: 'text', value: sv.value, size: '5', 'aria-label': 'value',
        oninput: function () { sv.value = this.value; self.refreshCommand(ctx); } });
      this.cmdEl = h('code', { id: 'ag-steer-cmd', cls: 'ag-iv-cmd' });
      this.whyEl = h('div', { cls: 'ag-empty', id: 'ag-steer-why' });
      var box = h('div', { cls: 'ag-iv-steer' }, h('div', { cls: 'ag-sub', text: 'Steer: the command to run' }), target, op, value, this.cmdEl, this.whyEl);
      this.refreshCommand(ctx);
      return box;
    },
    refreshCommand: function (ctx) {
      if (!this.cmdEl) return;
      var c = this.command(ctx);
      this.cmdEl.textContent = c.cmd;
      this.whyEl.textContent = c.why;
    },
    update: function (st, ctx, changed) {
      if (!(changed.has('all') || changed.has('interventions') || changed.has('supernodes'))) {
        if (changed.has('selection') || changed.has('pins')) this.refreshCommand(ctx);
        return;
      }
      var self = this, g = ctx.g, box = this.el, recs = records(g);
      box.textContent = '';
      box.append(h('h3', { text: this.title + ' (' + recs.length + ')' }));
      if (!recs.length) box.append(h('div', { cls: 'ag-empty', text: 'No interventions recorded (run attrgraph intervene).' }));
      var ul = h('ul', { cls: 'ag-iv-list', id: 'ag-iv-list' });
      recs.slice(0, MAX_LIST).forEach(function (r, k) {
        var li = h('li', { 'data-index': String(k), onclick: function () { self.pick(k, ctx); } },
          h('span', { text: r.name }), h('span', { cls: 'size', text: r.kind }));
        if (k === self.sel) li.classList.add('active');
        li.setAttribute('aria-pressed', String(k === self.sel));
        ul.append(li);
      });
      if (recs.length) box.append(ul);
      var r = recs[this.sel];
      if (r) {
        var d = h('div', { cls: 'ag-iv-detail', id: 'ag-iv-detail' });
        r.spec.forEach(function (line) { d.append(h('div', { cls: 'ag-iv-spec', text: line })); });
        if (!r.spec.length) d.append(h('div', { cls: 'ag-iv-spec', text: 'nothing changed (plain forward pass)' }));
        if (r.model) d.append(h('div', { cls: 'ag-sub', text: 'model: ' + r.model }));
        d.append(targetsTable(r.targets));
        (r.notes || []).forEach(function (line) { d.append(h('div', { cls: 'ag-sub ag-iv-note', text: line })); });
        d.append(topBars(r.top_before, r.top_after));
        var chart = r.sweep ? sweepChart(r.sweep) : null;
        if (chart) d.append(chart);
        if (r.generated_after != null) {
          d.append(h('div', { cls: 'ag-sub', text: 'generated before: ' + JSON.stringify(String(r.generated_before)) }),
            h('div', { cls: 'ag-sub', text: 'generated after: ' + JSON.stringify(r.generated_after) }));
        }
        box.append(d);
      }
      var rank = ranking(recs);
      if (rank) box.append(h('div', { cls: 'ag-sub', text: 'Supernode check: ranked by measured effect' }), rank);
      box.append(this.composer(ctx));
    },
    overlay: function (c2d, ctx) {
      var recs = records(ctx.g), r = recs[this.sel];
      if (!r) return;
      this.nodesOf(r, ctx).forEach(function (i) {
        if (!ctx.visible[i]) return;
        c2d.beginPath(); c2d.arc(ctx.SX[i], ctx.SY[i], ctx.radius(i) + 5, 0, 6.2832);
        c2d.strokeStyle = '#dc2626'; c2d.setLineDash([3, 2]); c2d.lineWidth = 2; c2d.stroke(); c2d.setLineDash([]);
      });
    },
    readHash: function (p, ctx) {
      var k = Number(p.get('iv'));
      if (p.has('iv') && Number.isInteger(k) && k >= 0 && k < records(ctx.g).length) this.sel = k;
    },
    writeHash: function (p) { if (this.sel >= 0) p.set('iv', String(this.sel)); },
    state: function (ctx) {
      var r = records(ctx.g)[this.sel];
      return {
        interventions: records(ctx.g).length,
        selectedIntervention: r ? r.name : null,
        intervenedNodes: r ? this.nodesOf(r, ctx).map(function (i) { return ctx.g.ids[i]; }) : [],
        steerCommand: this.command(ctx).cmd
      };
    }
  });
})(AG);
