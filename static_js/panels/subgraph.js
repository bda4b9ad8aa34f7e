/* panels/subgraph.js: pinned nodes and supernodes as boxes placed by mean column / row, with the links
 * between them summed; pinned nodes can be grouped into a new supernode here. */
(function (AG) {
  'use strict';
  var labels = AG.labels, h = AG.dom.h, truncate = AG.format.truncate, NS = 'http://www.w3.org/2000/svg';

  /** Groups (supernodes, then loose pinned nodes) and the summed link weight between each ordered pair. */
  function groupsOf(g, pinned) {
    var groups = [], owner = new Map();
    g.supernodes.forEach(function (s, k) {
      if (!s.members.length) return;
      groups.push({ name: s.name, members: s.members, color: s.color, supernode: k });
      s.members.forEach(function (i) { owner.set(i, groups.length - 1); });
    });
    pinned.forEach(function (i) {
      if (owner.has(i)) return;
      groups.push({ name: labels.displayLabel(g, i), members: [i], color: labels.nodeColor(g, i), node: i });
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
  }

  AG.registerPanel({
    name: 'subgraph',
    title: 'Subgraph',
    order: 30,
    mount: function (el) { el.classList.add('ag-subgraph'); },
    update: function (st, ctx, changed) {
      if (!(changed.has('all') || changed.has('pins') || changed.has('supernodes') || changed.has('labels'))) return;
      var g = ctx.g, box = this.el, supernodes = ctx.panel('supernodes');
      box.textContent = '';
      var sg = groupsOf(g, st.pinned);
      box.append(h('h3', { text: this.title + ' (' + sg.groups.length + ')' }));
      if (!sg.groups.length) { box.append(h('div', { cls: 'ag-empty', text: 'Ctrl/cmd-click nodes to pin them; pinned nodes and supernodes appear here.' })); return; }
      var loose = Array.from(st.pinned).filter(function (i) {
        return !g.supernodes.some(function (s) { return s.members.indexOf(i) >= 0; });
      });
      if (loose.length && supernodes) {
        var name = h('input', { cls: 'ag-search', id: 'ag-supernode-name', type: 'text', placeholder: 'Supernode name', 'aria-label': 'Supernode name' });
        var make = h('button', { cls: 'ag-btn', id: 'ag-make-supernode', type: 'button', onclick: function () {
          supernodes.add(name.value.trim() || 'group ' + (g.supernodes.length + 1), loose, ctx);
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
      sg.groups.forEach(function (a, k) {  // spread groups that land on the same spot
        for (var j = 0; j < k; j++) {
          var b = sg.groups[j];
          if (Math.abs(a.x - b.x) < 60 && Math.abs(a.y - b.y) < 16) a.y = Math.min(H - 10, b.y + 18);
        }
      });
      var maxS = 0; sg.sums.forEach(function (v) { maxS = Math.max(maxS, Math.abs(v)); });
      sg.sums.forEach(function (v, key) {
        var ab = key.split('>'), a = sg.groups[+ab[0]], b = sg.groups[+ab[1]], t = Math.sqrt(Math.abs(v) / (maxS || 1));
        root.append(svg('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: 'rgb(' + (v >= 0 ? g.posRGB : g.negRGB) + ')',
          'stroke-width': (0.6 + 3 * t).toFixed(2), 'stroke-opacity': (0.3 + 0.6 * t).toFixed(2) }));
      });
      sg.groups.forEach(function (gr) {
        var grp = svg('g', { 'class': 'ag-sg-node', cursor: 'pointer' });
        var label = truncate(gr.name, 22) + (gr.members.length > 1 ? ' (' + gr.members.length + ')' : '');
        var w = Math.min(150, 12 + label.length * 5);
        grp.append(svg('rect', { x: gr.x - w / 2, y: gr.y - 8, width: w, height: 16, rx: 4, fill: '#ffffff',
          stroke: gr.color, 'stroke-width': gr.supernode != null ? 2 : 1.2 }));
        var text = svg('text', { x: gr.x, y: gr.y + 3, 'text-anchor': 'middle' });
        text.textContent = label;
        var tip = svg('title', {}); tip.textContent = gr.name; grp.append(tip);
        grp.append(text);
        grp.addEventListener('click', function () {
          if (gr.node != null) ctx.select(gr.node); else if (supernodes) supernodes.toggle(gr.supernode, ctx);
        });
        root.append(grp);
      });
      box.append(root);
    }
  });
})(AG);
