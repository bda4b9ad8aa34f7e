/* panels/subgraph.js: the collapsed graph (collapse.js: the tokens that feed it, supernodes and pinned nodes,
 * the target logit) as boxes placed by their members' mean column / row, links summed; pinned nodes can be
 * grouped into a new supernode here. */
(function (AG) {
  'use strict';
  var h = AG.dom.h, truncate = AG.format.truncate, NS = 'http://www.w3.org/2000/svg';

  AG.registerPanel({
    name: 'subgraph',
    title: 'Subgraph',
    order: 30,
    mount: function (el) { el.classList.add('ag-subgraph'); },
    update: function (st, ctx, changed) {
      if (!(changed.has('all') || changed.has('pins') || changed.has('supernodes') || changed.has('labels'))) return;
      var g = ctx.g, box = this.el, supernodes = ctx.panel('supernodes');
      box.textContent = '';
      var v = AG.collapse.view(g, st.pinned), groups = [];
      if (v) v.rows.forEach(function (rows, k) {
        groups.push({ name: v.names[k], members: rows, color: v.colors[k], supernode: v.supernode[k], node: v.supernode[k] == null ? rows[0] : null });
      });
      box.append(h('h3', { text: this.title + ' (' + groups.length + ')' }));
      if (!groups.length) { box.append(h('div', { cls: 'ag-empty', text: 'Ctrl/cmd-click nodes to pin them; pinned nodes and supernodes appear here.' })); return; }
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
      groups.forEach(function (gr) {
        var mx = 0, my = 0;
        gr.members.forEach(function (i) { mx += g.x[i]; my += g.y[i]; });
        gr.x = 40 + (mx / gr.members.length) / Math.max(L.width, 1) * (W - 80);
        gr.y = 16 + (my / gr.members.length) / Math.max(L.height, 1) * (H - 32);
      });
      groups.forEach(function (a, k) {  // spread groups that land on the same spot
        for (var j = 0; j < k; j++) {
          var b = groups[j];
          if (Math.abs(a.x - b.x) < 60 && Math.abs(a.y - b.y) < 16) a.y = Math.min(H - 10, b.y + 18);
        }
      });
      var maxS = 0; v.links.forEach(function (l) { maxS = Math.max(maxS, Math.abs(l[2])); });
      v.links.forEach(function (l) {
        var a = groups[l[0]], b = groups[l[1]], w = l[2], t = Math.sqrt(Math.abs(w) / (maxS || 1));
        root.append(svg('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: 'rgb(' + (w >= 0 ? g.posRGB : g.negRGB) + ')',
          'stroke-width': (0.6 + 3 * t).toFixed(2), 'stroke-opacity': (0.3 + 0.6 * t).toFixed(2) }));
      });
      groups.forEach(function (gr) {
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
