/* Hazardous-waste manifests (officers: their region; an enterprise: what it generates or receives), filtered by
   state: the flows generator → receiver on a map (line width by tonnes, the transporters named), a table of the
   flows, and the manifest list. Text from data is set as text (EH.el / textContent), never as HTML. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#wst-msg');
  var base = null, layer = null;

  EH.requireRole(EH.STAFF.concat(['enterprise']), msg).then(function () {
    base = EH.baseMap('wst-map');
    EH.wasteMap = base.map;  // for the browser tests
    layer = L.layerGroup().addTo(base.map);
    EH.$('#wst-state').addEventListener('change', load);
    load();
  }).catch(function () {});

  function load() {
    var s = EH.$('#wst-state').value;
    var q = s ? '?state=' + encodeURIComponent(s) : '';
    EH.getJSON('/api/v1/waste/manifests' + q).then(function (rows) {
      var tb = EH.clear(EH.$('#wst-table tbody'));
      rows.forEach(function (m) {
        tb.append(el('tr', { 'data-manifest': m.number, 'data-state': m.state }, el('td', null, m.number),
          el('td', null, t('wst_state_' + m.state)), el('td', null, m.code), el('td', null, String(m.quantity_t)),
          el('td', null, (m.generator || '') + ' → ' + (m.receiver || '') + (m.cross_region ? ' ⇄' : '')),
          el('td', null, m.deadline_at ? EH.fmtTime(m.deadline_at, true) : '')));
      });
      document.body.setAttribute('data-manifests', String(rows.length));
    }).catch(function (e) { EH.msg(msg, 'error', String(e && e.message || e)); });
    EH.getJSON('/api/v1/waste/flows' + q).then(draw)
      .catch(function (e) { EH.msg(msg, 'error', String(e && e.message || e)); });
  }

  function label(node) { return node ? node.name + ' (' + node.uscc + ')' : ''; }

  function tip(lines) {  // a tooltip built from text nodes (Leaflet would take a string as HTML)
    var box = document.createElement('div');
    lines.forEach(function (line, i) {
      if (i) box.appendChild(document.createElement('br'));
      box.appendChild(document.createTextNode(line));
    });
    return box;
  }

  function draw(d) {
    layer.clearLayers();
    var nodes = {}, bounds = [], unplaced = 0, regionPlaced = 0, lines = 0;
    d.nodes.forEach(function (n) {
      nodes[n.uscc] = n;
      if (n.lon == null) { unplaced += 1; return; }
      if (n.position === 'region') regionPlaced += 1;
    });
    var tb = EH.clear(EH.$('#wst-flows tbody'));
    var maxT = Math.max.apply(null, d.flows.map(function (f) { return f.tonnes; }).concat([1e-9]));
    d.flows.forEach(function (f) {
      var a = nodes[f.generator], b = nodes[f.receiver];
      var transp = f.transporters.length ? f.transporters.join('、') : t('wst_no_transporter');
      tb.append(el('tr', { 'data-flow': f.generator + '>' + f.receiver },
        el('td', null, label(a) + ' → ' + label(b) + (f.cross_region ? ' ⇄' : '')), el('td', null, transp),
        el('td', null, String(f.manifests)), el('td', null, String(f.tonnes)), el('td', null, f.categories.join(' '))));
      if (!a || !b || a.lon == null || b.lon == null) return;
      var ll = [[a.lat, a.lon], [b.lat, b.lon]];
      var w = 2 + 8 * Math.sqrt(f.tonnes / maxT);
      L.polyline(ll, { renderer: base.renderer, color: f.cross_region ? '#c62828' : '#ef6c00', weight: w, opacity: 0.8 })
        .bindTooltip(tip([label(a) + ' → ' + label(b), t('wst_transporter') + ': ' + transp,
          f.manifests + ' × · ' + f.tonnes + ' t · ' + f.categories.join(' ')]), { sticky: true })
        .addTo(layer);
      // the direction: a small marker three quarters of the way, towards the receiver
      L.circleMarker([a.lat + 0.75 * (b.lat - a.lat), a.lon + 0.75 * (b.lon - a.lon)],
        { renderer: base.renderer, radius: 3, color: '#ef6c00', fillColor: '#ffffff', fillOpacity: 1, weight: 2 })
        .addTo(layer);
      lines += 1;
      bounds.push(ll[0], ll[1]);
    });
    d.nodes.forEach(function (n) {
      if (n.lon == null) return;
      var color = n.generates ? '#1565c0' : '#2e7d32';
      L.circleMarker([n.lat, n.lon], { renderer: base.renderer, radius: 7, color: color, weight: 2, fillColor: color,
        fillOpacity: n.position === 'region' ? 0.3 : 0.9, dashArray: n.position === 'region' ? '3 3' : null })
        .bindTooltip(tip([label(n), t(n.generates ? 'wst_generator' : 'wst_receiver') +
          (n.generates && n.receives ? ' / ' + t('wst_receiver') : ''),
          n.position === 'region' ? t('wst_pos_region') : t('wst_pos_sites')]))
        .addTo(layer);
    });
    if (bounds.length) base.map.fitBounds(bounds, { padding: [30, 30], maxZoom: 9, animate: false });
    var note = [t('wst_map_note')];
    if (regionPlaced) note.push(t('wst_pos_region_n').replace('{n}', regionPlaced));
    if (unplaced) note.push(t('wst_unplaced_n').replace('{n}', unplaced));
    EH.$('#wst-map-note').textContent = note.join(' ');
    document.body.setAttribute('data-flows', String(d.flows.length));
    EH.markDrawn(lines).then(function () { document.body.setAttribute('data-flow-lines', String(lines)); });
  }
})();
