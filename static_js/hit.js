/* hit.js: which node is under the mouse. A uniform grid over the visible nodes' screen positions (rebuilt
 * after every projection) answers "nearest node within r px" by looking at a few cells. */
(function (AG) {
  'use strict';
  var GRID = AG.core.GRID, P = AG.Viewer.prototype;

  /** Rebuild the grid: cell -> visible node list (CSR) over this.SX / this.SY. */
  P.buildGrid = function () {
    var n = this.g.n, SX = this.SX, SY = this.SY, vis = this.visible, i;
    var cols = Math.ceil(this.W / GRID) + 1, rows = Math.ceil(this.H / GRID) + 1, nc = cols * rows;
    var cellOf = new Int32Array(n), start = new Uint32Array(nc + 1);
    for (i = 0; i < n; i++) {
      var cx = Math.floor(SX[i] / GRID), cy = Math.floor(SY[i] / GRID);
      if (!vis[i] || cx < 0 || cy < 0 || cx >= cols || cy >= rows) { cellOf[i] = -1; continue; }
      cellOf[i] = cy * cols + cx; start[cellOf[i] + 1]++;
    }
    for (var c = 0; c < nc; c++) start[c + 1] += start[c];
    var fill = start.slice(0, nc), list = new Uint32Array(start[nc]);
    for (i = 0; i < n; i++) if (cellOf[i] >= 0) list[fill[cellOf[i]]++] = i;
    this.grid = { cols: cols, rows: rows, start: start, list: list };
  };

  /** Nearest visible node to (x, y) within `radius` px, or -1 (looks at (2r/GRID + 1)^2 cells). */
  P.nearest = function (x, y, radius) {
    var gr = this.grid, best = -1, bd = radius * radius;
    if (!gr) return -1;
    var cx = Math.floor(x / GRID), cy = Math.floor(y / GRID), reach = Math.ceil(radius / GRID);
    for (var yy = cy - reach; yy <= cy + reach; yy++) {
      if (yy < 0 || yy >= gr.rows) continue;
      for (var xx = cx - reach; xx <= cx + reach; xx++) {
        if (xx < 0 || xx >= gr.cols) continue;
        var c = yy * gr.cols + xx;
        for (var p = gr.start[c]; p < gr.start[c + 1]; p++) {
          var i = gr.list[p], dx = this.SX[i] - x, dy = this.SY[i] - y, d = dx * dx + dy * dy;
          if (d <= bd) { bd = d; best = i; }
        }
      }
    }
    return best;
  };
})(AG);
