/* panels/supernodes.js: the graph's supernodes (qParams.supernodes) and their scores (attrgraph.supernodes).
 *
 * Click a row to highlight it (several at once; hash key `sn`). Per row: ✎ rename (Enter keeps, Escape
 * drops), + / − add or remove the selected node, × delete. Keys with a node selected: `+` adds it to the
 * highlighted supernodes, `-` removes it from them; `m` merges the highlighted ones (the first keeps its
 * name and colour), `c` shows the collapsed graph (supernodes as single nodes, links summed) in the main
 * canvas (hash key `sc`). Colours stay with their supernode through every edit; a new one takes a colour no
 * other has. Edits keep attrgraph.supernodes in step (an edited group becomes origin "human" and loses the
 * scores that described its old members), so "Download" writes a Neuronpedia-compatible graph JSON. */
(function (AG) {
  'use strict';
  var h = AG.dom.h, fmt = AG.format.fmt, truncate = AG.format.truncate;

  /** attrgraph.supernodes (the set's metadata), or null. */
  function record(g) {
    var ext = g.extra && g.extra.attrgraph;
    var rec = ext && typeof ext === 'object' ? ext.supernodes : null;
    return rec && typeof rec === 'object' && Array.isArray(rec.groups) ? rec : null;
  }
  /** The supernode views by name (report/views.py Group: origin and scores, as the PDF prints them). */
  function groupViews(g) {
    if (!g.snViews) {
      g.snViews = new Map();
      ((g.views.supernodes && g.views.supernodes.groups) || []).forEach(function (gr) { if (!g.snViews.has(gr.name)) g.snViews.set(gr.name, gr); });
    }
    return g.snViews;
  }
  function num(v, d) { return typeof v === 'number' && isFinite(v) ? fmt(v, d) : null; }
  /** One line of a supernode's view: origin, then its scores (the PDF's per-group scores, size aside). */
  function scoreLine(view) {
    if (!view) return '';
    return [view.origin].concat(view.scores.filter(function (kv) { return kv[0] !== 'size'; })
      .map(function (kv) { return kv[0] + ' ' + kv[1]; })).filter(Boolean).join(' · ');
  }
  /** The set's quality in one line (grouping contrast against the baseline, coverage). */
  function qualityLine(g) {
    var rec = record(g), sc = rec && rec.scores && typeof rec.scores === 'object' ? rec.scores : null;
    if (!sc) return '';
    var parts = [], gr = sc.grouping, cov = sc.coverage;
    if (gr && gr.ours && gr.baseline && num(gr.ours.contrast, 3)) {
      parts.push('contrast ' + num(gr.ours.contrast, 3) + ' vs ' + (num(gr.baseline.contrast, 3) || '–') + (gr.same_as_baseline ? ' (layer/position: the same grouping)' : ' (layer/position)') +
        (gr.best_possible && num(gr.best_possible.contrast, 3) ? ', best possible ' + num(gr.best_possible.contrast, 3) : ''));
    }
    if (cov && cov.supernodes && num(cov.supernodes.replacement, 3)) {
      parts.push('replacement ' + num(cov.supernodes.replacement, 3) + (cov.all_features && num(cov.all_features.replacement, 3)
        ? ' of ' + num(cov.all_features.replacement, 3) : ''));
    }
    return parts.join(' · ');
  }
  /** A colour no supernode has yet (else the palette, cycled by count). */
  function freshColor(g) {
    var used = new Set(g.supernodes.map(function (s) { return s.color; })), pal = g.supernodeColors;
    for (var k = 0; k < pal.length; k++) if (!used.has(pal[k])) return pal[k];
    return pal[g.supernodes.length % pal.length];
  }
  function uniqueName(g, name, skip) {
    var taken = new Set(g.supernodes.filter(function (s, k) { return k !== skip; }).map(function (s) { return s.name; }));
    var out = name, n = 2;
    while (taken.has(out)) out = name + ' (' + (n++) + ')';
    return out;
  }
  /** Keep attrgraph.supernodes in step with an edit: `from` renamed to `to` (null: deleted); `edited`:
   *  the members changed, so the group becomes the user's and its old scores go. */
  function touch(g, from, to, edited) {
    var rec = record(g), views = groupViews(g), view = views.get(from);
    g.supernodesEdited = true;  // the collapsed graph is computed here from now on (collapse.js)
    views.delete(from);
    if (to != null && view) views.set(to, edited ? { name: to, origin: 'human', scores: [] } : view);
    if (!rec) return;
    for (var k = rec.groups.length - 1; k >= 0; k--) {
      var gr = rec.groups[k];
      if (!gr || gr.name !== from) continue;
      if (to == null) { rec.groups.splice(k, 1); continue; }
      gr.name = to;
      if (edited) { gr.origin = 'human'; delete gr.scores; }
    }
  }


  AG.registerPanel({
    name: 'supernodes',
    title: 'Supernodes',
    order: 20,
    init: function () { this.active = new Set(); this.collapsed = false; this.editing = -1; this.collapsedStats = null; },
    mount: function (el, ctx) {
      var self = this;
      document.addEventListener('keydown', function (ev) {
        var t = ev.target, typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
        if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
        var i = ctx.st.selected;
        if ((ev.key === '+' || ev.key === '=') && i >= 0) self.active.forEach(function (k) { self.addNode(k, i, ctx); });
        else if (ev.key === '-' && i >= 0) Array.from(self.active).sort(function (a, b) { return b - a; })
          .forEach(function (k) { self.removeNode(k, i, ctx); });
        else if (ev.key === 'm') self.merge(ctx);
        else if (ev.key === 'c') self.setCollapsed(!self.collapsed, ctx);
        else return;
        ev.preventDefault();
      });
    },
    update: function (st, ctx, changed) {
      if (!(changed.has('all') || changed.has('supernodes') || changed.has('selection'))) return;
      var self = this, g = ctx.g, box = this.el, sel = st.selected;
      box.textContent = '';
      box.append(h('h3', { text: this.title + ' (' + g.supernodes.length + ')' }));
      var quality = qualityLine(g);
      if (quality) box.append(h('div', { cls: 'ag-sn-quality', id: 'ag-supernode-quality', text: quality }));
      var btn = function (id, text, fn, tip, off) {
        var b = h('button', { cls: 'ag-btn', id: id, type: 'button', title: tip, onclick: fn }, text);
        if (off) b.disabled = true;
        return b;
      };
      var collapseBtn = btn('ag-collapse-supernodes', 'Collapsed graph', function () { self.setCollapsed(!self.collapsed, ctx); },
        'Show supernodes as single nodes with summed links in the main canvas (c)', !g.supernodes.length && !st.pinned.size);
      collapseBtn.setAttribute('aria-pressed', String(this.collapsed));
      box.append(h('div', { cls: 'ag-sn-tools' },
        btn('ag-merge-supernodes', 'Merge', function () { self.merge(ctx); }, 'Merge the highlighted supernodes (m)', this.active.size < 2),
        collapseBtn,
        btn('ag-download-supernodes', 'Download', function () { ctx.downloadJson(); },
          'Neuronpedia-compatible graph JSON with these supernodes')));
      if (!g.supernodes.length) { box.append(h('div', { cls: 'ag-empty', text: 'No supernodes in this graph (qParams.supernodes).' })); return; }
      var ul = h('ul', { cls: 'ag-supernodes' });
      g.supernodes.forEach(function (s, k) {
        var on = self.active.has(k), member = sel >= 0 && s.members.indexOf(sel) >= 0;
        var stop = function (fn) { return function (ev) { ev.stopPropagation(); fn(); }; };
        var name;
        if (self.editing === k) {
          name = h('input', { cls: 'ag-sn-rename', type: 'text', 'aria-label': 'New name for ' + s.name,
            onclick: function (ev) { ev.stopPropagation(); } });
          name.value = s.name;
          name.addEventListener('keydown', function (ev) {
            ev.stopPropagation();
            if (ev.key === 'Enter') self.rename(k, name.value, ctx);
            else if (ev.key === 'Escape') { self.editing = -1; ctx.changed('supernodes'); }
          });
        } else name = h('span', { cls: 'ag-sn-name', text: s.name, style: 'color:#111827' });
        var addBtn = h('button', { cls: 'ag-sn-btn ag-add-node', type: 'button', title: 'Add the selected node (+)',
          'aria-label': 'Add the selected node to ' + s.name, onclick: stop(function () { self.addNode(k, ctx.st.selected, ctx); }) }, '+');
        var removeBtn = h('button', { cls: 'ag-sn-btn ag-remove-node', type: 'button', title: 'Remove the selected node (-)',
          'aria-label': 'Remove the selected node from ' + s.name, onclick: stop(function () { self.removeNode(k, ctx.st.selected, ctx); }) }, '−');
        addBtn.disabled = sel < 0 || member;
        removeBtn.disabled = !member;
        var li = h('li', { 'data-supernode': String(k), style: 'color:' + s.color, onclick: function () { self.toggle(k, ctx); } },
          h('span', { cls: 'ag-swatch', style: 'background:' + s.color }), name,
          h('span', { cls: 'size', text: String(s.members.length) }),
          h('button', { cls: 'ag-sn-btn ag-rename', type: 'button', title: 'Rename', 'aria-label': 'Rename ' + s.name,
            onclick: stop(function () { self.editing = k; ctx.changed('supernodes'); }) }, '✎'),
          addBtn, removeBtn,
          h('button', { cls: 'ag-remove', type: 'button', title: 'Delete this supernode', 'aria-label': 'Delete ' + s.name,
            onclick: stop(function () { self.remove(k, ctx); }) }, '×'));
        if (on) li.classList.add('active');
        li.setAttribute('aria-pressed', String(on));
        var line = scoreLine(groupViews(g).get(s.name));
        if (line) li.append(h('span', { cls: 'ag-sn-scores', text: line }));
        ul.append(li);
      });
      box.append(ul);
      if (this.editing >= 0) { var input = box.querySelector('.ag-sn-rename'); if (input) { input.focus(); input.select(); } }
    },
    /** Highlight supernode `k` or stop highlighting it. */
    toggle: function (k, ctx) {
      if (this.active.has(k)) this.active.delete(k); else this.active.add(k);
      ctx.changed('supernodes');
    },
    /** A new (active) supernode made of `members` (node indices); they leave the pinned set, as in Neuronpedia. */
    add: function (name, members, ctx) {
      var g = ctx.g, unique = uniqueName(g, String(name), -1);
      g.supernodes.push({ name: unique, ids: members.map(function (i) { return g.ids[i]; }), members: members.slice(),
        color: freshColor(g) });
      g.supernodesEdited = true;
      members.forEach(function (i) { ctx.st.pinned.delete(i); });
      this.active.add(g.supernodes.length - 1);
      ctx.changed('supernodes', 'pins');
    },
    /** Rename supernode `k` (an empty name or one another supernode has is refused). */
    rename: function (k, name, ctx) {
      var g = ctx.g, s = g.supernodes[k], text = String(name).trim();
      this.editing = -1;
      if (!s || !text || text === s.name || g.supernodes.some(function (o, j) { return j !== k && o.name === text; })) {
        if (s && text && text !== s.name) ctx.status.textContent = 'A supernode named "' + truncate(text, 40) + '" exists already';
        ctx.changed('supernodes');
        return false;
      }
      touch(g, s.name, text, false);
      s.name = text;
      ctx.changed('supernodes');
      return true;
    },
    addNode: function (k, i, ctx) {
      var s = ctx.g.supernodes[k];
      if (!s || i == null || i < 0 || s.members.indexOf(i) >= 0) return;
      s.members.push(i); s.ids.push(ctx.g.ids[i]);
      touch(ctx.g, s.name, s.name, true);
      ctx.changed('supernodes');
    },
    removeNode: function (k, i, ctx) {
      var s = ctx.g.supernodes[k], at = s ? s.members.indexOf(i) : -1;
      if (at < 0) return;
      s.members.splice(at, 1);
      s.ids.splice(s.ids.indexOf(ctx.g.ids[i]), 1);
      if (!s.members.length) { this.remove(k, ctx); return; }
      touch(ctx.g, s.name, s.name, true);
      ctx.changed('supernodes');
    },
    /** Merge the highlighted supernodes into the first of them. */
    merge: function (ctx) {
      var g = ctx.g, ks = Array.from(this.active).sort(function (a, b) { return a - b; });
      if (ks.length < 2) return;
      var first = g.supernodes[ks[0]];
      for (var q = ks.length - 1; q >= 1; q--) {
        var other = g.supernodes[ks[q]];
        other.members.forEach(function (i) {
          if (first.members.indexOf(i) < 0) { first.members.push(i); first.ids.push(g.ids[i]); }
        });
        touch(g, other.name, null, true);
        g.supernodes.splice(ks[q], 1);
      }
      touch(g, first.name, first.name, true);
      this.active = new Set([ks[0]]);
      ctx.changed('supernodes');
    },
    remove: function (k, ctx) {
      var next = new Set(), s = ctx.g.supernodes[k];
      if (!s) return;
      touch(ctx.g, s.name, null, true);
      ctx.g.supernodes.splice(k, 1);
      this.active.forEach(function (c) { if (c !== k) next.add(c > k ? c - 1 : c); });
      this.active = next;
      if (this.editing === k) this.editing = -1;
      ctx.changed('supernodes');
    },
    setCollapsed: function (on, ctx) {
      this.collapsed = !!on;
      ctx.changed('supernodes');
    },
    overlay: function (c2d, ctx) {
      var g = ctx.g;
      this.collapsedStats = null;
      if (this.collapsed) { this.drawCollapsed(c2d, ctx); return; }
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
    /** The collapsed graph over the main canvas (collapse.js: the tokens that feed it, supernodes and pinned
     *  nodes, the target logit), each node at its members' mean position, links summed. */
    drawCollapsed: function (c2d, ctx) {
      var g = ctx.g, v = AG.collapse.view(g, ctx.st.pinned);
      c2d.fillStyle = 'rgba(255,255,255,0.93)';
      c2d.fillRect(0, 0, ctx.W, ctx.H);
      if (!v) { this.collapsedStats = { nodes: [], links: 0, sums: [], view: null }; return; }
      var at = v.rows.map(function (rows) {
        var x = 0, y = 0;
        rows.forEach(function (i) { x += ctx.SX[i]; y += ctx.SY[i]; });
        return { x: x / rows.length, y: y / rows.length };
      });
      at.forEach(function (a, k) {  // nodes that land on the same spot are spread vertically
        for (var j = 0; j < k; j++) if (Math.abs(a.x - at[j].x) < 90 && Math.abs(a.y - at[j].y) < 20) a.y = at[j].y + 22;
      });
      var maxS = 0;
      v.links.forEach(function (l) { maxS = Math.max(maxS, Math.abs(l[2])); });
      c2d.lineCap = 'round';
      v.links.forEach(function (l) {
        var a = at[l[0]], b = at[l[1]], t = Math.sqrt(Math.abs(l[2]) / (maxS || 1));
        c2d.strokeStyle = 'rgba(' + (l[2] >= 0 ? g.posRGB : g.negRGB) + ',' + (0.3 + 0.6 * t).toFixed(2) + ')';
        c2d.lineWidth = 0.8 + 4 * t;
        c2d.beginPath(); c2d.moveTo(a.x, a.y); c2d.lineTo(b.x, b.y); c2d.stroke();
      });
      c2d.font = '11px system-ui, sans-serif';
      c2d.textAlign = 'center'; c2d.textBaseline = 'middle';
      v.names.forEach(function (name, k) {
        var sn = v.supernode[k] != null, p = at[k];
        var text = truncate(name, 26) + (sn ? ' (' + v.members[k].length + ')' : ''), w = c2d.measureText(text).width + 12;
        c2d.fillStyle = '#ffffff'; c2d.strokeStyle = v.colors[k]; c2d.lineWidth = sn ? 2.2 : 1.2;
        c2d.beginPath();
        if (c2d.roundRect) c2d.roundRect(p.x - w / 2, p.y - 9, w, 18, 4); else c2d.rect(p.x - w / 2, p.y - 9, w, 18);
        c2d.fill(); c2d.stroke();
        c2d.fillStyle = '#111827'; c2d.fillText(text, p.x, p.y);
      });
      this.collapsedStats = {
        nodes: v.names.slice(), links: v.links.length,
        sums: v.links.map(function (l) { return [v.names[l[0]], v.names[l[1]], l[2]]; }),
        view: { ids: v.ids, names: v.names, colors: v.colors, members: v.members, supernode: v.supernode, links: v.links }
      };
    },
    readHash: function (p, ctx) {
      var v = p.has('sn') ? p.get('sn') : p.get('cl');  // `cl`: links written before the rename
      this.collapsed = p.get('sc') === '1';
      if (v == null) return;
      var n = ctx.g.supernodes.length;
      this.active = new Set(v.split(',').map(Number).filter(function (k) { return Number.isInteger(k) && k >= 0 && k < n; }));
    },
    writeHash: function (p) {
      if (this.active.size) p.set('sn', Array.from(this.active).join(','));
      if (this.collapsed) p.set('sc', '1');
    },
    state: function (ctx) {
      var g = ctx.g;
      return {
        activeSupernodes: Array.from(this.active).sort(function (a, b) { return a - b; }).map(function (k) { return g.supernodes[k].name; }),
        supernodes: g.supernodes.map(function (s) { return [s.name].concat(s.ids); }),
        supernodeColors: g.supernodes.map(function (s) { return s.color; }),
        collapsed: this.collapsed, collapsedGraph: this.collapsedStats
      };
    }
  });
})(AG);
