/* Surfaces page: an interpolated pollutant surface (IDW or ordinary kriging, GET /api/v1/surfaces) drawn as
   colour bands with its legend and the leave-one-out RMSE of both methods; soil sample points (GET
   /api/v1/assessments/soil/samples) as a layer. Text from data is set as text. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#surf-msg');
  var base = EH.baseMap('surf-map');
  var map = base.map, layer = null, soil = null;
  var SOIL_COLORS = { below_screening: '#3A9C6B', between: '#F2C12E', above_intervention: '#C00000' };
  var form = EH.$('#surf-form');
  // the last full Beijing hour: date and hour of one instant (between 00:00 and 01:00 Beijing that is 23:00 of
  // the day before, not of today — which lies in the future)
  form.elements.time.value = new Date(Date.now() - 3600e3 + 8 * 3600e3).toISOString().slice(0, 13) + ':00';

  function legend(items) {
    var box = EH.clear(EH.$('#surf-legend'));
    items.forEach(function (it) {
      box.append(el('span', null, el('span', { class: 'sw', style: 'background:' + it.color }), it.from + '–' + it.to));
    });
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = new FormData(form);
    var q = new URLSearchParams({ parameter: f.get('parameter'), time: f.get('time'), method: f.get('method'), cells: '150' });
    EH.getJSON('/api/v1/surfaces?' + q.toString()).then(function (gj) {
      EH.clear(msg);
      if (layer) map.removeLayer(layer);
      layer = L.geoJSON(gj, { style: function (ft) {
        return { color: ft.properties.color, weight: 0, fillColor: ft.properties.color, fillOpacity: 0.55, fillRule: 'evenodd' };
      } }).addTo(map);
      var p = gj.properties;
      EH.$('#surf-meta').textContent = p.parameter + ' · ' + p.time + ' · ' + p.method + ' · ' + t('surf_stations') + ' ' +
        p.stations + ' · LOO RMSE: IDW ' + EH.fmt(p.loo_rmse.idw, 1) + ', ' + t('surf_kriging') + ' ' + EH.fmt(p.loo_rmse.kriging, 1);
      legend(p.legend);
      document.body.setAttribute('data-surface', String(gj.features.length));
    }).catch(function (e) { EH.msg(msg, 'error', e.message); });
  });

  EH.$('#soil-layer').addEventListener('change', function (ev) {
    if (soil) { map.removeLayer(soil); soil = null; }
    if (!ev.target.checked) return;
    EH.getJSON('/api/v1/assessments/soil/samples').then(function (d) {
      soil = L.geoJSON(d.features, { pointToLayer: function (ft, ll) {
        return L.circleMarker(ll, { radius: 6, color: '#333', weight: 1, fillOpacity: 0.9,
          fillColor: SOIL_COLORS[ft.properties.worst] || '#b0b8bf' });
      }, onEachFeature: function (ft, lyr) {
        var pr = ft.properties;
        lyr.bindTooltip(function () {
          return el('span', null, pr.name + ' · ' + (pr.worst || t('no_data')) + ' · ' + pr.standard);
        });
      } }).addTo(map);
    }).catch(function (e) { EH.msg(msg, 'error', e.message); });
  });
})();
