/* Instrumentation for the HTML viewer, injected by benchmarks and browser tests (never shipped in the page).
 * Evaluated in the page after `window.attrgraph.ready`; adds to window.attrgraph:
 *   hoverTimes()    ms per real mouse hover (nearest-node lookup + tooltip + overlay), last 500
 *   metrics()       the viewer's load timings (decodeMs, firstDrawMs, readyAt, ...)
 *   nearestBench(q) mean ms per nearest-node query: the grid index vs a scan of every visible node
 */
() => {
  const api = window.attrgraph, v = api.viewer();
  if (api.hoverTimes) return true;
  const times = [], hoverAt = v.hoverAt;
  v.hoverAt = function (x, y) {
    const t0 = performance.now(), i = hoverAt.call(this, x, y);
    times.push(performance.now() - t0);
    if (times.length > 500) times.shift();
    return i;
  };
  api.hoverTimes = () => times.slice();
  api.metrics = () => Object.assign({}, v.metrics);
  api.nearestBench = (q) => {
    const M = 58, pts = [];
    for (let k = 0; k < q; k++) pts.push([M + (k * 7919 % 1000) / 1000 * (v.W - M), (k * 104729 % 1000) / 1000 * v.H]);
    const r = v.hitRadius();
    let found = 0, t0 = performance.now();
    for (let k = 0; k < q; k++) found += v.nearest(pts[k][0], pts[k][1], r) >= 0;
    const grid = (performance.now() - t0) / q;
    t0 = performance.now();
    for (let k = 0; k < q; k++) {
      let best = -1, bd = r * r;
      for (let i = 0; i < v.g.n; i++) {
        if (!v.visible[i]) continue;
        const dx = v.SX[i] - pts[k][0], dy = v.SY[i] - pts[k][1], d = dx * dx + dy * dy;
        if (d <= bd) { bd = d; best = i; }
      }
      found -= best >= 0;
    }
    return { gridMs: grid, scanMs: (performance.now() - t0) / q, agree: found === 0 };
  };
  return true;
}
