/* boot.js: entry points. AttrgraphViewer.render(element, {head, headEncoding, blob}) draws a graph;
 * on load, the page's own data block is drawn into #attrgraph-root and `window.attrgraph` is the small API
 * that tests and scripts use (state, select, pin, screenPosition, svg, graphJson, viewer). Benchmark hooks
 * are not shipped: benchmarks and tests inject theirs (benchmarks/viewer_hooks.js) through `viewer()`. */
(function (AG) {
  'use strict';

  async function render(el, data) {
    var t0 = performance.now();
    var head = typeof data.head === 'string' ? await AG.decode.readHead(data.head, data.headEncoding) : data.head;
    var cols = await AG.decode.unpack(head, data.blob);
    var t1 = performance.now();
    var g = AG.decode.buildGraph(head, cols);
    var t2 = performance.now();
    var viewer = new AG.Viewer(el, head, g);
    var t3 = performance.now();
    viewer.resize();
    var m = viewer.metrics;
    m.viewerMs = t3 - t2; m.firstDrawMs = performance.now() - t3; m.startedAt = t0; m.unpackMs = t1 - t0; m.decodeMs = t2 - t0;
    await new Promise(function (resolve) { requestAnimationFrame(function () { resolve(); }); });
    m.readyAt = performance.now();
    setTimeout(function () { return g.out.start.length + g.inn.start.length; }, 0);  // adjacency, before the first hover
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
      svg: function () { return need().svgString(); },
      graphJson: function () { return need().documentChunks().join(''); },
      /** The Viewer itself, for instrumentation injected by tests and benchmarks. */
      viewer: function () { return need(); }
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
      root.append(AG.dom.h('div', { cls: 'ag-error', text: 'attrgraph: could not draw this graph: ' + (err && err.message || err) }));
      if (window.console) console.error(err);
    });
    window.attrgraph = api(p);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot); else boot();
})(AG);
