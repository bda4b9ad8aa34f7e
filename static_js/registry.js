/* registry.js: side panels register here; the viewer mounts them and tells them about every change.
 *
 * Panel API. A panel is one file in static_js/panels/ (plus one line in VIEWER_MODULES, report/html.py):
 *
 *   AG.registerPanel({
 *     name: 'supernodes',          // unique; its section is <div class="ag-section" id="ag-supernodes">
 *     title: 'Supernodes',         // heading
 *     order: 20,                   // position in the side bar, ascending
 *     init: function (ctx) {},     // optional, once, before the URL hash is read: set up `this.*` state
 *     mount: function (el, ctx) {},            // once: build the section's DOM inside `el`
 *     update: function (st, ctx, changed) {},  // after every change; `changed` is a Set of what changed:
 *         // 'all' (first paint), 'filters', 'style', 'view', 'selection', 'hover', 'pins', 'labels',
 *         // 'supernodes', 'query', or a panel's own name
 *     state: function (ctx) { return {}; },    // optional: keys merged into window.attrgraph.state()
 *     readHash: function (params, ctx) {},     // optional: read its keys from the URL hash (URLSearchParams)
 *     writeHash: function (params, ctx) {},    // optional: write them
 *     overlay: function (canvas2d, ctx) {}     // optional: draw highlights on the overlay canvas
 *   });
 *
 * `this` in these functions is the panel's own instance for one viewer (Object.create of the object above).
 * `ctx` is the viewer: ctx.g (graph model, decode.js), ctx.st (core state, state.js), ctx.visible,
 * ctx.changed(kind, ...) to announce a change (the only refresh path), ctx.select(i), ctx.togglePin(i),
 * ctx.panel(name) (another panel's instance), ctx.SX/SY/radius(i) (screen geometry), AG.dom.h (DOM helper;
 * strings from the graph go in as text only). Pure; loads in the page and in Node.
 */
(function (AG) {
  'use strict';
  var specs = [];

  /** Register a panel (see above); a second panel with the same name is an error. */
  function registerPanel(spec) {
    if (!spec || typeof spec.name !== 'string' || !spec.name) throw new Error('a panel needs a name');
    if (typeof spec.mount !== 'function' || typeof spec.update !== 'function') {
      throw new Error('panel ' + spec.name + ' needs mount() and update()');
    }
    if (specs.some(function (s) { return s.name === spec.name; })) throw new Error('panel ' + spec.name + ' registered twice');
    specs.push(spec);
  }
  /** The registered panels, by `order` then registration order. */
  function panels() {
    return specs.map(function (s, k) { return [s, k]; })
      .sort(function (a, b) { return (a[0].order || 0) - (b[0].order || 0) || a[1] - b[1]; })
      .map(function (p) { return p[0]; });
  }
  /** One instance per panel for one viewer, in side-bar order. */
  function instantiate() { return panels().map(function (s) { return Object.create(s); }); }
  /** Tell every panel instance what changed. */
  function notify(instances, st, ctx, changed) {
    for (var k = 0; k < instances.length; k++) instances[k].update(st, ctx, changed);
  }
  /** The panels' parts of state(), merged. */
  function collectState(instances, ctx) {
    var out = {};
    instances.forEach(function (p) { if (p.state) Object.assign(out, p.state(ctx)); });
    return out;
  }

  var registry = { registerPanel: registerPanel, panels: panels, instantiate: instantiate, notify: notify,
    collectState: collectState };
  AG.registry = registry;
  AG.registerPanel = registerPanel;
  if (typeof module !== 'undefined' && module.exports) module.exports = registry;
})(typeof AG !== 'undefined' ? AG : {});
