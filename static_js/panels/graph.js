/* panels/graph.js: the graph itself: model, prompt, sizes, generator, and its history (attrgraph.history:
 * the stages that made the file, oldest first). */
(function (AG) {
  'use strict';
  var h = AG.dom.h, fmt = AG.format.fmt;

  /** A settings object as `key=value` pairs (values as compact JSON). */
  function settingsText(settings) {
    if (!settings || typeof settings !== 'object') return '';
    return Object.keys(settings).map(function (k) {
      var v = settings[k];
      return k + '=' + (typeof v === 'string' ? v : JSON.stringify(v));
    }).join(', ');
  }
  /** The history records (attrgraph.history) as a list, oldest first. */
  function historyList(records) {
    var ol = h('ol', { cls: 'ag-history', id: 'ag-history' });
    records.forEach(function (r) {
      if (!r || typeof r !== 'object') return;
      var head = [String(r.stage || '?'), r.attrgraph_version ? 'attrgraph ' + r.attrgraph_version : null,
        r.started ? String(r.started) : null, typeof r.duration_s === 'number' ? fmt(r.duration_s, 2) + ' s' : null]
        .filter(Boolean).join(' · ');
      var li = h('li', { 'data-stage': String(r.stage || '') }, h('div', { cls: 'ag-hist-head', text: head }));
      var settings = settingsText(r.settings);
      if (settings) li.append(h('div', { cls: 'ag-hist-sub', text: 'settings: ' + settings }));
      var inputs = (Array.isArray(r.inputs) ? r.inputs : []).map(function (x) {
        if (!x || typeof x !== 'object') return '';
        return String(x.name || '?') + (x.role ? ' (' + x.role + ')' : '') + (typeof x.sha256 === 'string' ? ' sha256:' + x.sha256.slice(0, 12) : '');
      }).filter(Boolean);
      if (inputs.length) li.append(h('div', { cls: 'ag-hist-sub', text: 'inputs: ' + inputs.join(', ') }));
      ol.append(li);
    });
    return ol;
  }

  AG.registerPanel({
    name: 'graph-info',
    title: 'Graph',
    order: 90,
    mount: function (el, ctx) {
      var g = ctx.g, m = g.meta, info = m.info || {}, gen = info.generator || {}, dl = h('dl', { cls: 'ag-kv' });
      [['model', m.scan], ['slug', m.slug], ['prompt', m.prompt], ['nodes', g.n + ' (' + g.errors + ' errors)'],
        ['links', String(g.m)], ['node threshold', m.node_threshold], ['generator', [gen.name, gen.version].filter(Boolean).join(' ')],
        ['description', info.description]]
        .forEach(function (r) {
          if (r[1] == null || r[1] === '') return;
          dl.append(h('dt', { text: r[0] }), h('dd', { text: String(r[1]) }));
        });
      el.append(h('h3', { text: this.title }), dl);
      var hist = g.extra.attrgraph && Array.isArray(g.extra.attrgraph.history) ? g.extra.attrgraph.history : [];
      if (hist.length) el.append(h('div', { cls: 'ag-sub', text: 'History (' + hist.length + ' stage' + (hist.length === 1 ? '' : 's') + ')' }), historyList(hist));
    },
    update: function () {}
  });
})(AG);
