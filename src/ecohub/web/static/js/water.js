/* Surface-water sections: map coloured by GB 3838 class and a sortable table. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  EH.legendWater(EH.$('#legend-water'));
  var base = EH.baseMap('map');
  EH.water = { map: base.map };  // for the browser tests
  var sites = {}, params = {};
  function pname(n) { var p = params[n]; return p ? (EH.lang === 'en' ? p.name_en : p.name_zh) : n; }
  Promise.all([EH.getJSON('/api/v1/water/quality'), EH.getJSON('/api/v1/sites?kind=water_section&limit=10000'),
    EH.getJSON('/api/v1/parameters').catch(function () { return []; })])
    .then(function (res) {
      res[1].results.forEach(function (s) { sites[s.code] = s; });
      res[2].forEach(function (p) { params[p.name] = p; });
      var rows = res[0].map(function (w) {
        var s = sites[w.site] || { attrs: {} };
        new EH.Diamond([w.lat, w.lon], { renderer: base.renderer, radius: 7, weight: 1, color: '#222',
          fillColor: EH.waterColor(w.class), fillOpacity: 0.95 })
          .bindTooltip(EH.tip(w.name + ' ' + EH.waterName(w.class)))
          .on('click', function () { location.assign('/sections/' + encodeURIComponent(w.site)); })
          .addTo(base.map);
        return { code: w.site, name: w.name, basin: (s.attrs || {}).basin || '', cls: w.class, official: w.official_class,
          worst: w.worst_items.map(pname).join(', '), time: w.time };
      });
      base.ready.then(function () { EH.markDrawn(rows.length); });
      var tbl = EH.sortTable(EH.$('#sections-table'), rows, function (sorted) {
        var f = (EH.$('#filter').value || '').trim().toLowerCase();
        var tb = EH.clear(EH.$('#sections-table tbody'));
        sorted.filter(function (r) { return !f || (r.name + r.code + r.basin).toLowerCase().indexOf(f) >= 0; })
          .forEach(function (r) {
            tb.append(el('tr', null, el('td', null, el('a', { href: '/sections/' + encodeURIComponent(r.code) }, r.name)),
              el('td', null, r.basin), el('td', null, EH.waterBadge(r.cls)), el('td', null, r.official || '—'),
              el('td', null, r.worst || '—'), el('td', null, EH.fmtTime(r.time))));
          });
      }, 'cls', -1);
      EH.$('#filter').addEventListener('input', function () { tbl.redraw(); });
    }).catch(function (e) { EH.msg(EH.$('#sections-table tbody'), 'error', t('error_load') + ': ' + e.message); });
})();
