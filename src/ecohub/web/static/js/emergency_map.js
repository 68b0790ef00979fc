/* Emergency layers of the one map (一张图): risk sources coloured by HJ 941 grade, sensitive receptors, open
   incidents with their screening plume isopleths and affected receptors. Added beside map.js (which exposes
   EH.map once it is ready); every text from data goes in as text (EH.el / EH.tip), never as HTML. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var GRADE_COLORS = { major: '#c62828', larger: '#ef6c00', general: '#fbc02d' };
  var RECEPTOR_COLOR = '#6a1b9a';

  function ready(fn, tries) {
    if (EH.map && EH.map.map) return fn(EH.map);
    if ((tries || 0) > 300) return;  // map never came (role without the map): nothing to add
    setTimeout(function () { ready(fn, (tries || 0) + 1); }, 100);
  }

  ready(function (M) {
    var map = M.map;
    var box = EH.$('#em-layers');
    if (box) box.classList.remove('hidden');

    // risk sources (layer of map.js, served from the register): colour by grade, tooltip with the grade
    M.groups.risk.on('layeradd', function (e) {
      if (!e.layer.eachLayer) return;
      e.layer.eachLayer(function (m) {
        var p = (m.feature && m.feature.properties) || {};
        if (m.setStyle) m.setStyle({ fillColor: GRADE_COLORS[p.grade] || EH.GREY, color: '#333', weight: 1 });
        m.unbindTooltip();
        m.bindTooltip(EH.tip(String(p.name || '') + ' · ' + (p.grade ? t('grade_' + p.grade) : '—') +
                             (p.grade_code ? ' · ' + p.grade_code : '')));
      });
    });

    var groups = { receptors: L.featureGroup(), incidents: L.featureGroup() };
    var loaded = {};

    function setCount(k, n) {
      var c = EH.$('[data-em-count="' + k + '"]');
      if (c) c.textContent = String(n);
    }

    function receptorMarker(f, ll, affected) {
      return L.circleMarker(ll, { radius: affected ? 7 : 5, weight: affected ? 3 : 1, color: affected ? '#b71c1c' : '#fff',
        fillColor: RECEPTOR_COLOR, fillOpacity: 0.9 });
    }

    function load(k) {
      if (loaded[k]) return;
      loaded[k] = true;
      if (k === 'receptors') {
        EH.getJSON('/api/v1/receptors').then(function (fc) {
          L.geoJSON(fc, {
            pointToLayer: function (f, ll) { return receptorMarker(f, ll, false); },
            onEachFeature: function (f, layer) {
              var p = f.properties || {};
              layer.bindTooltip(EH.tip(String(p.name || '') + ' · ' + String(p.type || '') +
                                       (p.population ? ' · ' + p.population : '')));
            }
          }).addTo(groups.receptors);
          setCount('receptors', fc.features.length);
        }).catch(function () { setCount('receptors', '—'); });
      } else if (k === 'incidents') {
        EH.getJSON('/api/v1/incidents?format=geojson').then(function (fc) {
          var n = 0;
          L.geoJSON(fc, {
            style: function (f) {
              var p = f.properties || {};
              if (p.kind === 'isopleth') return { color: '#d84315', weight: 1.5, fillColor: '#ff7043', fillOpacity: 0.25 };
              return {};
            },
            pointToLayer: function (f, ll) {
              var p = f.properties || {};
              if (p.kind === 'receptor') return receptorMarker(f, ll, true);
              n += 1;
              return L.circleMarker(ll, { radius: 9, weight: 3, color: '#b71c1c', fillColor: '#ffeb3b', fillOpacity: 1 });
            },
            onEachFeature: function (f, layer) {
              var p = f.properties || {};
              if (p.kind === 'incident') {
                layer.bindTooltip(EH.tip(String(p.code) + ' · ' + String(p.title || '') + ' · ' + String(p.level || '')));
                layer.on('click', function () { incidentCard(p.id); });
              } else if (p.kind === 'isopleth') {
                layer.bindTooltip(EH.tip('≥ ' + p.threshold_mg_m3 + ' mg/m³ · ' + p.area_km2 + ' km² · ' + t('em_screening')));
              } else if (p.kind === 'receptor') {
                layer.bindTooltip(EH.tip(String(p.name || '') + ' · ' + t('em_arrival_min') + ' ' + p.arrival_min +
                                         ' · ' + p.concentration_mg_m3 + ' mg/m³'));
              }
            }
          }).addTo(groups.incidents);
          setCount('incidents', n);
        }).catch(function () { setCount('incidents', '—'); });
      }
    }

    function sync(k, on) {
      if (on) { load(k); groups[k].addTo(map); } else { map.removeLayer(groups[k]); }
    }
    document.querySelectorAll('input[data-em-layer]').forEach(function (c) {
      c.addEventListener('change', function () { sync(c.dataset.emLayer, c.checked); });
      if (c.checked) sync(c.dataset.emLayer, true);
    });

    function incidentCard(id) {
      var panel = EH.$('#panel'), body = EH.$('#panel-body');
      EH.getJSON('/api/v1/incidents/' + encodeURIComponent(id)).then(function (inc) {
        panel.classList.remove('hidden');
        map.setView([inc.lat, inc.lon], 12);
        var res = inc.dispersion && inc.dispersion.result;
        var rows = (res && res.receptors || []).map(function (r) {
          return el('tr', { 'data-receptor': r.id }, el('td', null, r.name || r.id), el('td', null, String(r.arrival_min)),
                    el('td', null, String(r.concentration_mg_m3)));
        });
        var live = (inc.nearby_monitoring || []).slice(0, 12).map(function (v) {
          return el('tr', null, el('td', null, v.site_name || v.site), el('td', null, v.parameter),
                    el('td', null, EH.fmt(v.value)), el('td', null, String(Math.round(v.distance_m)) + ' m'));
        });
        EH.clear(body).append(el('div', null,
          el('h3', { style: 'margin-top:0' }, inc.code + ' · ' + inc.title),
          el('p', null, t('em_level') + ': ' + (inc.level_zh || '') + ' (' + (inc.level || '') + ') · ' + inc.status),
          res ? el('p', { class: 'muted' }, res.screening) : null,
          el('h4', null, t('em_affected')),
          el('table', { class: 'tbl', id: 'em-affected' },
             el('tr', null, el('th', null, ''), el('th', null, t('em_arrival_min')), el('th', null, t('em_conc'))), rows),
          live.length ? el('table', { class: 'tbl' }, live) : null));
      }).catch(function (e) { EH.msg(body, 'error', String(e && e.message || e)); panel.classList.remove('hidden'); });
    }
    EH.emergencyMap = { groups: groups, incidentCard: incidentCard };
  });
})();
