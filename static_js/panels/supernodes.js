/* panels/supernodes.js: the graph's supernodes (qParams.supernodes): click to highlight (several at once),
 * × to delete; other panels add new ones through add(). Its state: which are active (hash key `sn`). */
(function (AG) {
  'use strict';
  var h = AG.dom.h;

  AG.registerPanel({
    name: 'supernodes',
    title: 'Supernodes',
    order: 20,
    init: function () { this.active = new Set(); },
    mount: function () {},
    update: function (st, ctx, changed) {
      if (!(changed.has('all') || changed.has('supernodes'))) return;
      var self = this, g = ctx.g, box = this.el;
      box.textContent = '';
      box.append(h('h3', { text: this.title + ' (' + g.supernodes.length + ')' }));
      if (!g.supernodes.length) { box.append(h('div', { cls: 'ag-empty', text: 'No supernodes in this graph (qParams.supernodes).' })); return; }
      var ul = h('ul', { cls: 'ag-supernodes' });
      g.supernodes.forEach(function (s, k) {
        var on = self.active.has(k);
        var li = h('li', { 'data-supernode': String(k), style: 'color:' + s.color, onclick: function () { self.toggle(k, ctx); } },
          h('span', { cls: 'ag-swatch', style: 'background:' + s.color }),
          h('span', { text: s.name, style: 'color:#111827' }), h('span', { cls: 'size', text: String(s.members.length) }),
          h('button', { cls: 'ag-remove', type: 'button', title: 'Delete this supernode', 'aria-label': 'Delete ' + s.name,
            onclick: function (ev) { ev.stopPropagation(); self.remove(k, ctx); } }, '×'));
        if (on) li.classList.add('active');
        li.setAttribute('aria-pressed', String(on));
        ul.append(li);
      });
      box.append(ul);
    },
    /** Highlight supernode `k` or stop highlighting it. */
    toggle: function (k, ctx) {
      if (this.active.has(k)) this.active.delete(k); else this.active.add(k);
      ctx.changed('supernodes');
    },
    /** A new (active) supernode made of `members` (node indices); they leave the pinned set, as in Neuronpedia. */
    add: function (name, members, ctx) {
      var g = ctx.g;
      g.supernodes.push({ name: String(name), ids: members.map(function (i) { return g.ids[i]; }), members: members.slice(),
        color: g.supernodeColors[g.supernodes.length % g.supernodeColors.length] });
      members.forEach(function (i) { ctx.st.pinned.delete(i); });
      this.active.add(g.supernodes.length - 1);
      ctx.changed('supernodes', 'pins');
    },
    remove: function (k, ctx) {
      var next = new Set();
      ctx.g.supernodes.splice(k, 1);
      this.active.forEach(function (c) { if (c !== k) next.add(c > k ? c - 1 : c); });
      this.active = next;
      ctx.changed('supernodes');
    },
    overlay: function (c2d, ctx) {
      var g = ctx.g;
      this.active.forEach(function (k) {
        var s = g.supernodes[k];
        if (!s) return;
        s.members.forEach(function (i) {
          if (!ctx.visible[i]) return;
          c2d.beginPath(); c2d.arc(ctx.SX[i], ctx.SY[i], ctx.radius(i) + 3, 0, 6.2832);
          c2d.strokeStyle = s.color; c2d.lineWidth = 2.5; c2d.stroke();
        });
      });
    },
    readHash: function (p, ctx) {
      var v = p.has('sn') ? p.get('sn') : p.get('cl');  // `cl`: links written before the rename
      if (v == null) return;
      var n = ctx.g.supernodes.length;
      this.active = new Set(v.split(',').map(Number).filter(function (k) { return Number.isInteger(k) && k >= 0 && k < n; }));
    },
    writeHash: function (p) { if (this.active.size) p.set('sn', Array.from(this.active).join(',')); },
    state: function (ctx) {
      var g = ctx.g;
      return {
        activeSupernodes: Array.from(this.active).sort(function (a, b) { return a - b; }).map(function (k) { return g.supernodes[k].name; }),
        supernodes: g.supernodes.map(function (s) { return [s.name].concat(s.ids); })
      };
    }
  });
})(AG);
