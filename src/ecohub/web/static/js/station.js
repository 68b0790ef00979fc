/* Station page: AQI now with the health advice of its level, concentrations and sub-indices, the last 24 hours
   and the last 30 days (ECharts). */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var code = EH.params.code;
  var enc = encodeURIComponent(code);
  var POLL = [['pm25', 'PM2.5', 'µg/m³'], ['pm10', 'PM10', 'µg/m³'], ['so2', 'SO₂', 'µg/m³'], ['no2', 'NO₂', 'µg/m³'],
    ['co', 'CO', 'mg/m³'], ['o3', 'O₃', 'µg/m³']];
  EH.legendAqi(EH.$('#legend-aqi'));
  var base = EH.baseMap('st-map', { noFit: true });

  function fail(e) {
    EH.msg(EH.$('#st-error'), 'error', (e.status === 404 ? t('not_found') : t('error_load')) + ': ' + e.message);
    EH.$('#st-meta').textContent = '';
  }

  EH.getJSON('/api/v1/sites/' + enc).then(function (s) {
    EH.$('#st-name').textContent = s.name + ' (' + s.code + ')';
    document.title = s.name + ' · ' + document.title;
    EH.$('#st-meta').textContent = t('kind_' + s.kind) + ' · ' + (s.region_name || s.region_code) +
      (s.attrs && s.attrs.network ? ' · ' + s.attrs.network : '') + ' · ' + s.lon.toFixed(4) + ', ' + s.lat.toFixed(4);
    base.map.setView([s.lat, s.lon], 9);
    EH.stationMarker = L.circleMarker([s.lat, s.lon], { renderer: base.renderer, radius: 9, weight: 2, color: '#222',
      fillColor: EH.GREY, fillOpacity: 1 }).addTo(base.map).bindTooltip(EH.tip(s.name));
    if (EH.stationLevel) EH.stationMarker.setStyle({ fillColor: EH.aqiColor(EH.stationLevel) });
    if (EH.forecastVsObserved && s.region_code) {  // the city's forecast beside the observation (forecast.js)
      EH.forecastVsObserved(/00$/.test(s.region_code) ? s.region_code : s.region_code.slice(0, 4) + '00', s.code);
    }
    if (EH.forecastHourly && s.region_code) {  // the station's own hourly forecast, else its city's (forecast.js)
      EH.forecastHourly(/00$/.test(s.region_code) ? s.region_code : s.region_code.slice(0, 4) + '00', s.code);
    }
  }).catch(fail);

  EH.getJSON('/api/v1/aqi/hourly?site=' + enc).then(function (rows) {
    var r = rows[0];
    if (!r) { EH.$('#now-cat').textContent = t('no_data'); return; }
    var box = EH.$('#now-aqi');
    box.textContent = r.aqi === null ? '—' : String(r.aqi);
    box.className = 'num lv' + (r.level || 0);
    EH.stationLevel = r.level;
    if (EH.stationMarker) EH.stationMarker.setStyle({ fillColor: EH.aqiColor(r.level) });
    EH.$('#now-cat').textContent = EH.levelName(r.level);
    EH.$('#now-primary').textContent = t('primary_pollutant') + ': ' + (r.primary_pollutant || '—');
    EH.$('#now-time').textContent = EH.fmtTime(r.time, true) + ' ' + t('beijing_time');
    if (r.level) {
      EH.$('#now-effect').textContent = t('health_' + r.level + '_effect');
      EH.$('#now-advice').textContent = t('health_' + r.level + '_advice');
    }
    var tb = EH.$('#conc tbody');
    POLL.forEach(function (p) {
      var v = r.concentrations[p[0]];
      tb.append(el('tr', null, el('td', null, p[1]), el('td', { class: 'num' }, EH.fmt(v)), el('td', null, p[2]),
        el('td', { class: 'num' }, EH.fmt(r.iaqi[p[0]]))));
    });
    EH.$('#edition').textContent = t('edition') + ': HJ 633-' + r.edition +
      (r.missing && r.missing.length ? ' · ' + r.missing.join(', ') + ' —' : '');
  }).catch(function (e) { if (e.status !== 404) fail(e); });

  var c24 = EH.chart(EH.$('#chart24'));
  c24.showLoading();
  EH.getJSON('/api/v1/web/stations/' + enc + '/hours?hours=24').then(function (d) {
    c24.hideLoading();
    var x = d.hours.map(function (h) { return EH.fmtTime(h.time); });
    c24.setOption({
      tooltip: { trigger: 'axis' },
      legend: { top: 0, data: ['AQI', 'PM2.5', 'PM10'] },
      grid: { left: 44, right: 50, top: 34, bottom: 30 },
      xAxis: { type: 'category', data: x },
      yAxis: [{ type: 'value', name: 'AQI', minInterval: 1 }, { type: 'value', name: 'µg/m³', splitLine: { show: false } }],
      series: [
        { name: 'AQI', type: 'bar', data: d.hours.map(function (h) { return { value: h.aqi, itemStyle: { color: EH.aqiColor(h.level) } }; }) },
        { name: 'PM2.5', type: 'line', yAxisIndex: 1, smooth: true, showSymbol: false, data: d.hours.map(function (h) { return h.concentrations.pm25; }) },
        { name: 'PM10', type: 'line', yAxisIndex: 1, smooth: true, showSymbol: false, data: d.hours.map(function (h) { return h.concentrations.pm10; }) }
      ]
    });
    document.body.setAttribute('data-chart24', String(d.hours.length));
  }).catch(function (e) { c24.hideLoading(); if (e.status !== 404) fail(e); });

  var c30 = EH.chart(EH.$('#chart30'));
  c30.showLoading();
  EH.getJSON('/api/v1/aqi/daily?site=' + enc + '&from=' + EH.bjDate(-30) + '&to=' + EH.bjDate(-1)).then(function (rows) {
    c30.hideLoading();
    c30.setOption({
      tooltip: { trigger: 'axis', formatter: function (ps) {
        var p = ps[0], r = rows[p.dataIndex];
        // an HTML string for ECharts: every value from the data is escaped
        return EH.esc(r.date) + '<br>AQI ' + EH.esc(r.aqi === null ? '—' : r.aqi) + ' ' + EH.esc(EH.levelName(r.level)) +
          (r.primary_pollutant ? '<br>' + EH.esc(t('primary_pollutant') + ': ' + r.primary_pollutant) : '') +
          (r.missing.length ? '<br>◌ ' + EH.esc(t('incomplete_day') + ': ' + r.missing.join(', ')) : '');
      } },
      grid: { left: 44, right: 16, top: 20, bottom: 30 },
      xAxis: { type: 'category', data: rows.map(function (r) { return r.date.slice(5); }) },
      yAxis: { type: 'value', name: 'AQI', minInterval: 1 },
      series: [{ type: 'bar', data: rows.map(function (r) {
        var complete = !r.missing.length;
        return { value: r.aqi, itemStyle: { color: EH.aqiColor(r.level), opacity: complete ? 1 : 0.35,
          borderColor: complete ? undefined : '#555', borderType: 'dashed', borderWidth: complete ? 0 : 1 } };
      }) }]
    });
    document.body.setAttribute('data-chart30', String(rows.length));
  }).catch(function (e) { c30.hideLoading(); if (e.status !== 404) fail(e); });
})();
