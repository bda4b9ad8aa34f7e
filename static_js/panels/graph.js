/* panels/graph.js: the graph itself: model, prompt, sizes, generator, and its history (attrgraph.history:
 * the stages that made the file, oldest first). */
(function (AG) {
  'use strict';
  var h = AG.dom.h;

  /** The history view (report/views.py history_view: the stages that made the file, oldest first). */
  function historyList(stages) {
    var ol = h('ol', { cls: 'ag-history', id: 'ag-history' });
    stages.forEach(function (r) {
      var li = h('li', { 'data-stage': r.stage }, h('div', { cls: 'ag-hist-head', text: r.head }));
      if (r.settings) li.append(h('div', { cls: 'ag-hist-sub', text: 'settings: ' + r.settings }));
      if (r.inputs) li.append(h('div', { cls: 'ag-hist-sub', text: 'inputs: ' + r.inputs }));
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
      var page = AG.labels.httpUrl(g.views.links && g.views.links.graph);
      if (page) el.append(h('div', { cls: 'ag-sub' }, h('a', { id: 'ag-np-graph', href: page, target: '_blank', rel: 'noopener noreferrer',
        text: 'This graph on Neuronpedia' })));
      var hist = g.views.history || [];
      if (hist.length) el.append(h('div', { cls: 'ag-sub', text: 'History (' + hist.length + ' stage' + (hist.length === 1 ? '' : 's') + ')' }), historyList(hist));
    },
    update: function () {}
  });
})(AG);
