/* svgexport.js: the current view as a standalone SVG string (what the canvases show, as vector shapes).
 * Every string goes through format.xmlEscape, which also drops the characters XML 1.0 cannot hold, and is
 * cut to the report's one label length (attrgraph_cli/clip.py MAX_LABEL, head.semantics.limits.label). */
(function (AG) {
  'use strict';
  var core = AG.core, labels = AG.labels, xmlEscape = AG.format.xmlEscape, P = AG.Viewer.prototype;

  P.svgString = function () {
    var g = this.g, W = this.W, H = this.H, SX = this.SX, SY = this.SY, self = this, sc = this.scene, out = [];
    out.push('<svg xmlns="http://www.w3.org/2000/svg" width="' + W + '" height="' + H + '" viewBox="0 0 ' + W + ' ' + H +
      '" font-family="system-ui, DejaVu Sans, sans-serif">');
    out.push('<rect width="100%" height="100%" fill="#ffffff"/>');
    sc.rows.forEach(function (r) { if (r.shade) out.push('<rect x="' + core.MARGIN.left + '" y="' + r.y0.toFixed(1) + '" width="' + (W - core.MARGIN.left) + '" height="' + r.h.toFixed(1) + '" fill="#f8fafc"/>'); });
    out.push('<g stroke-linecap="round">');
    sc.linkGroups.forEach(function (group, bb) {
      if (!group.length) return;
      var style = self.bucketStyle(bb), d = [];  // the canvas's bucket, as a true-width vector stroke
      group.forEach(function (e) { d.push('M' + SX[g.src[e]].toFixed(1) + ' ' + SY[g.src[e]].toFixed(1) + 'L' + SX[g.tgt[e]].toFixed(1) + ' ' + SY[g.tgt[e]].toFixed(1)); });
      out.push('<path fill="none" stroke="rgb(' + (bb < 6 ? g.posRGB : g.negRGB) + ')" stroke-opacity="' + style.alpha.toFixed(3) +
        '" stroke-width="' + style.width.toFixed(2) + '" d="' + d.join('') + '"/>');
    });
    out.push('</g><g stroke="#ffffff" stroke-width="0.8">');
    for (var i = 0; i < g.n; i++) {
      if (!this.visible[i]) continue;
      var x = SX[i], y = SY[i], r = this.radius(i), k = g.kind[i], c = labels.nodeColor(g, i), shape;
      if (x < -20 || x > W + 20 || y < -20 || y > H + 20) continue;
      if (k === core.KIND_FEAT) shape = '<circle cx="' + x.toFixed(1) + '" cy="' + y.toFixed(1) + '" r="' + r + '"';
      else if (k === core.KIND_EMB) shape = '<rect x="' + (x - r).toFixed(1) + '" y="' + (y - r).toFixed(1) + '" width="' + 2 * r + '" height="' + 2 * r + '"';
      else if (k === core.KIND_ERR) shape = '<polygon points="' + [x, y - r, x + r, y, x, y + r, x - r, y].map(function (v) { return v.toFixed(1); }).join(' ') + '"';
      else shape = '<polygon points="' + [x, y - r * 1.15, x + r, y + r * 0.7, x - r, y + r * 0.7].map(function (v) { return v.toFixed(1); }).join(' ') + '"';
      out.push(shape + ' fill="' + c + '"><title>' + xmlEscape(labels.clip(g.ids[i] + ' ' + labels.displayLabel(g, i), g.limits.label)) + '</title>' + shape.split(' ')[0].replace('<', '</') + '>');
    }
    out.push('</g><g font-size="10" fill="#111827" stroke="#ffffff" stroke-width="3" paint-order="stroke">');
    sc.labels.forEach(function (l) { out.push('<text x="' + l.x.toFixed(1) + '" y="' + (l.y + 3.5).toFixed(1) + '">' + xmlEscape(l.text) + '</text>'); });
    out.push('</g><rect x="0" y="0" width="' + (core.MARGIN.left - 2) + '" height="' + H + '" fill="#ffffff"/>');
    out.push('<g font-size="11" fill="#4b5563" text-anchor="end">');
    sc.rows.forEach(function (r) { if (r.shown) out.push('<text x="' + (core.MARGIN.left - 8) + '" y="' + (r.y0 + r.h / 2 + 4).toFixed(1) + '">' + xmlEscape(r.label) + '</text>'); });
    out.push('</g><g fill="#111827">');
    sc.tokens.forEach(function (t) {
      out.push(t.rotated
        ? '<text font-size="' + t.size.toFixed(1) + '" text-anchor="end" transform="translate(' + t.x.toFixed(1) + ' ' + (t.y + t.size).toFixed(1) + ') rotate(-45)">' + xmlEscape(t.text) + '</text>'
        : '<text font-size="' + t.size.toFixed(1) + '" text-anchor="middle" x="' + t.x.toFixed(1) + '" y="' + (t.y + t.size).toFixed(1) + '">' + xmlEscape(t.text) + '</text>');
    });
    out.push('</g>');
    if (self.st.selected >= 0 && self.visible[self.st.selected]) {
      var s = self.st.selected;
      out.push('<circle cx="' + SX[s].toFixed(1) + '" cy="' + SY[s].toFixed(1) + '" r="' + (self.radius(s) + 2.5) + '" fill="none" stroke="#111827" stroke-width="2.5"/>');
    }
    out.push('</svg>');
    return out.join('\n');
  };
})(AG);
