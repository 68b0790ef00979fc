/* Public portal: AQI of every station and city on the map and in a sortable list, city ranking, water sections.
   ?markers=off draws the map without the station layer (the benchmark's baseline). */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var q = new URLSearchParams(location.search);
  var markersOn = q.get('markers') !== 'off';
  var base = EH.baseMap('map');
  var map = base.map;
  var stationLayer = L.featureGroup();
  var cityLayer = null, waterLayer = null;
  var stations = [], cities = {}, byCode = {}, markers = {};
  EH.portal = { map: map, markers: markers };  // for the browser tests
  var chart = null, cardSeq = 0;

  EH.legendAqi(EH.$('#legend-aqi'));
  EH.legendWater(EH.$('#legend-water'));

  function cityOf(region) { return /00$/.test(region) ? region : region.slice(0, 4) + '00'; }

  function showCard(s) {
    var body = EH.clear(EH.$('#card-body'));
    EH.$('#card-hint').classList.add('hidden');
    var lv = s.level;
    var fg = lv && lv >= 4 ? '#fff' : '#000';
    body.append(
      el('h3', { style: 'margin-top:0' }, el('a', { href: '/stations/' + encodeURIComponent(s.site), id: 'card-title' }, s.name),
        ' ', el('span', { class: 'muted small' }, s.site + ' · ' + ((cities[cityOf(s.region_code)] || {}).name || ''))),
      el('div', { class: 'big-aqi' },
        el('div', { class: 'num', style: 'background:' + EH.aqiColor(lv) + ';color:' + fg, 'data-testid': 'card-aqi' },
          s.aqi === null ? '—' : String(s.aqi)),
        el('div', null, el('div', { class: 'cat' }, EH.levelName(lv)),
          el('div', null, t('primary_pollutant') + ': ' + (s.primary_pollutant || '—')),
          el('div', { class: 'muted small' }, EH.fmtTime(s.time, true) + ' ' + t('beijing_time')))),
      lv ? el('p', { class: 'small' }, el('b', null, t('health_advice') + ': '), t('health_' + lv + '_advice')) : null,
      el('div', { class: 'muted small' }, t('station_24h') + ' (AQI)'),
      el('div', { class: 'chart mini', id: 'card-chart' })
    );
    if (chart) { chart.dispose(); chart = null; }
    var seq = ++cardSeq;
    Promise.all([EH.loadECharts(), EH.getJSON('/api/v1/web/stations/' + encodeURIComponent(s.site) + '/hours?hours=24')])
      .then(function (res) {
        if (seq !== cardSeq) return;  // another station was clicked meanwhile
        var d = res[1];
        chart = EH.chart(EH.$('#card-chart'));
        chart.setOption({
          grid: { left: 36, right: 8, top: 10, bottom: 24 },
          tooltip: { trigger: 'axis' },
          xAxis: { type: 'category', data: d.hours.map(function (h) { return h.time.slice(11, 16); }) },
          yAxis: { type: 'value', minInterval: 1 },
          series: [{ type: 'bar', name: 'AQI', data: d.hours.map(function (h) {
            return { value: h.aqi, itemStyle: { color: EH.aqiColor(h.level) } };
          }) }]
        });
        document.body.setAttribute('data-card-chart', String(d.hours.length));
      }).catch(function (e) { EH.msg(EH.$('#card-chart'), 'error', t('error_load') + ': ' + e.message); });
  }

  function renderCities(list) {
    var body = EH.$('#card-body');
    if (body.firstChild) return;
    var rows = list.slice().sort(function (a, b) { return (a.aqi === null) - (b.aqi === null) || a.aqi - b.aqi; });
    body.append(el('h3', { style: 'margin-top:0' }, t('cities') + ' · AQI'),
      el('table', { class: 'data', id: 'cities-table' }, el('tbody', null, rows.map(function (c) {
        return el('tr', null, el('td', null, c.name), el('td', { class: 'num' }, EH.aqiBadge(c.aqi, c.level)),
          el('td', null, EH.levelName(c.level)), el('td', null, c.primary_pollutant || '—'),
          el('td', { class: 'muted' }, EH.fmtTime(c.time)));
      }))));
  }

  function drawStations() {
    // one tooltip and one click handler for the whole layer (not one per marker): 5,000 markers stay cheap
    stations.forEach(function (s) {
      if (s.lon === null || s.lat === null) return;
      var m = L.circleMarker([s.lat, s.lon], { renderer: base.renderer, radius: 7, weight: 1, color: '#333',
        fillColor: EH.aqiColor(s.level), fillOpacity: 0.95 });
      m.station = s;
      m.addTo(stationLayer);
      markers[s.site] = m;
    });
    stationLayer.bindTooltip(function (m) { return EH.tip(m.station.name + ' ' + (m.station.aqi === null ? '—' : m.station.aqi)); });
    stationLayer.on('click', function (e) { showCard(e.layer.station); });
    stationLayer.addTo(map);
  }

  function drawCities() {
    if (cityLayer || !EH.cityShapes) return;
    cityLayer = L.geoJSON(EH.cityShapes, {
      renderer: base.renderer,
      style: function (f) {
        var c = cities[f.properties.code];
        return { color: '#555', weight: 1, fillColor: EH.aqiColor(c && c.level), fillOpacity: 0.75 };
      },
      onEachFeature: function (f, layer) {
        var c = cities[f.properties.code];
        layer.bindTooltip(EH.tip(f.properties.name + ' AQI ' + (c && c.aqi !== null ? c.aqi : '—') + ' ' + EH.levelName(c && c.level)));
      }
    });
  }

  var TABLE_PAGE = 300, showAll = false;
  function renderTable(rows) {
    var tb = EH.clear(EH.$('#stations-table tbody'));
    var f = (EH.$('#filter').value || '').trim().toLowerCase();
    var shown = rows.filter(function (r) { return !f || (r.name + r.code + r.city).toLowerCase().indexOf(f) >= 0; });
    var frag = document.createDocumentFragment();
    shown.slice(0, showAll ? shown.length : TABLE_PAGE).forEach(function (r) {
      frag.append(el('tr', { 'data-code': r.code },
        el('td', null, el('a', { href: '/stations/' + encodeURIComponent(r.code) }, r.name)),
        el('td', null, r.city), el('td', { class: 'num' }, EH.aqiBadge(r.aqi, r.level)),
        el('td', null, EH.levelName(r.level)), el('td', null, r.primary || '—'),
        el('td', { class: 'num' }, EH.fmt(r.pm25)), el('td', { class: 'num' }, EH.fmt(r.pm10)),
        el('td', null, EH.fmtTime(r.time))));
    });
    tb.append(frag);
    if (!showAll && shown.length > TABLE_PAGE) {
      tb.append(el('tr', null, el('td', { colspan: 8 }, el('button', { type: 'button', class: 'ghost', id: 'show-all',
        onclick: function () { showAll = true; renderTable(rows); } }, t('show_all') + ' (' + shown.length + ')'))));
    }
  }

  function unpack(d) {  // columnar → objects shaped like /api/v1/aqi/hourly rows
    return d.rows.map(function (r) {
      var o = {};
      d.columns.forEach(function (c, i) { o[c] = r[i]; });
      o.concentrations = { pm25: o.pm25, pm10: o.pm10 };
      return o;
    });
  }
  var aqiReq = markersOn ? EH.getJSON('/api/v1/web/portal/aqi').then(unpack) : Promise.resolve([]);
  var cityReq = EH.getJSON('/api/v1/aqi/hourly?by=city').catch(function () { return []; });
  Promise.all([aqiReq, cityReq]).then(function (res) {
    stations = res[0];
    res[1].forEach(function (c) { cities[c.city] = c; });
    stations.forEach(function (s) { byCode[s.site] = s; });
    var newest = stations.reduce(function (a, s) { return s.time > a ? s.time : a; }, '');
    if (newest) EH.$('#updated').textContent = t('updated') + ' ' + EH.fmtTime(newest, true) + ' (' + t('beijing_time') + ')';
    if (markersOn) drawStations();
    renderCities(res[1]);
    return base.ready.then(function () { return EH.markDrawn(markersOn ? stations.length : 0); });
  }).catch(function (e) {
    EH.msg(EH.$('#card-body'), 'error', t('error_load') + ': ' + e.message);
  }).then(function () {
    var rows = stations.map(function (s) {
      var c = cities[cityOf(s.region_code)];
      return { code: s.site, name: s.name, city: c ? c.name : s.region_code, aqi: s.aqi, level: s.level,
        primary: s.primary_pollutant, pm25: s.concentrations.pm25, pm10: s.concentrations.pm10, time: s.time };
    });
    var tbl = EH.sortTable(EH.$('#stations-table'), rows, renderTable, 'aqi', -1);
    EH.$('#filter').addEventListener('input', function () { tbl.redraw(); });
  });

  EH.getJSON('/api/v1/rankings/cities').then(function (rows) {
    var tb = EH.clear(EH.$('#ranking-table tbody'));
    if (!rows.length) tb.append(el('tr', null, el('td', { colspan: 6, class: 'muted' }, t('no_data'))));
    rows.forEach(function (r) {
      tb.append(el('tr', null, el('td', { class: 'num' }, r.rank === null ? '—' : String(r.rank)), el('td', null, r.name),
        el('td', { class: 'num' }, EH.fmt(r.index, 2)), el('td', null, r.primary || '—'),
        el('td', { class: 'num' }, EH.fmt(r.pm25)), el('td', { class: 'num' }, String(r.valid_days))));
    });
  }).catch(function (e) {
    EH.clear(EH.$('#ranking-table tbody')).append(el('tr', null, el('td', { colspan: 6, class: 'muted' }, t('error_load') + ': ' + e.message)));
  });

  // stations / cities switch
  EH.$('#mode').addEventListener('click', function (ev) {
    var b = ev.target.closest('button');
    if (!b) return;
    EH.$('#mode').querySelectorAll('button').forEach(function (x) { x.classList.toggle('on', x === b); });
    if (b.dataset.mode === 'cities') {
      base.ready.then(function () {
        drawCities();
        map.removeLayer(stationLayer);
        if (cityLayer) cityLayer.addTo(map);
      });
    } else {
      if (cityLayer) map.removeLayer(cityLayer);
      stationLayer.addTo(map);
    }
  });

  // water sections
  EH.$('#show-water').addEventListener('change', function (ev) {
    EH.$('#legend-water').classList.toggle('hidden', !ev.target.checked);
    if (!ev.target.checked) { if (waterLayer) map.removeLayer(waterLayer); return; }
    if (waterLayer) { waterLayer.addTo(map); return; }
    EH.getJSON('/api/v1/water/quality').then(function (rows) {
      waterLayer = L.layerGroup();
      rows.forEach(function (w) {
        var m = new EH.Diamond([w.lat, w.lon], { renderer: base.renderer, radius: 6, weight: 1, color: '#222',
          fillColor: EH.waterColor(w.class), fillOpacity: 0.95 });
        m.bindTooltip(EH.tip(w.name + ' ' + EH.waterName(w.class)));
        m.on('click', function () { location.assign('/sections/' + encodeURIComponent(w.site)); });
        m.addTo(waterLayer);
      });
      waterLayer.addTo(map);
    }).catch(function (e) { console.warn('water:', e.message); });
  });
})();
