/* Air-quality forecasts on the pages (data from /api/v1/forecasts*; text only through EH.el, never innerHTML):
   - #forecast-strip (portal): per city, D+1 … D+3 in level colours with the AQI range and primary pollutant,
     the heavy-pollution warning in force, and a "persistence" label when the history was too short for the model;
   - #warnings-list (cockpit): the cities under a heavy-pollution warning;
   - #forecast-vs-obs (station page, data-city set by station.js): the city's D+1 forecast beside the observed
     daily AQI over the last 30 days;
   - #forecast-hourly (station page): the 72 hourly values of D+1 … D+3 (the station's own issue when it has
     hours, else its city's), hourly AQI in level colours. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var WARN = { 1: '#1E6FD9', 2: '#FFD700', 3: '#FF8C00', 4: '#E60000' };

  function warningBadge(w) {
    if (!w || !w.level) return null;
    return el('span', { class: 'badge warn', 'data-warning': String(w.level),
      style: 'background:' + WARN[w.level] + ';color:' + (w.level === 2 ? '#000' : '#fff') },
      t('warning_' + w.level));
  }

  function dayBox(d) {
    var lv = d.level || 0;
    return el('div', { class: 'fc-day', 'data-day': d.day,
      style: 'border-top:6px solid ' + EH.aqiColor(lv) },
      el('div', { class: 'muted small' }, d.day.slice(5) + ' (D+' + d.lead + ')'),
      el('div', { class: 'fc-range' }, d.aqi_low === null ? '—' : 'AQI ' + Math.round(d.aqi_low) + '–' + Math.round(d.aqi_high)),
      el('div', null, EH.levelName(lv)),
      el('div', { class: 'muted small' }, t('primary_pollutant') + ': ' + (d.primary_pollutant || '—')));
  }

  function strip(target) {
    EH.getJSON('/api/v1/forecasts').then(function (issues) {
      EH.clear(target);
      if (!issues.length) { target.append(el('p', { class: 'muted' }, t('forecast_none'))); return; }
      issues.forEach(function (i) {
        target.append(el('div', { class: 'fc-city', 'data-city': i.target_code },
          el('div', { class: 'fc-head' }, el('b', null, i.name || i.target_code), ' ', warningBadge(i.warning),
            i.method === 'persistence' ? el('span', { class: 'muted small' }, ' ' + t('forecast_persistence')) : null,
            el('span', { class: 'muted small' }, ' · ' + t('forecast_issued') + ' ' + EH.fmtTime(i.issued_at))),
          el('div', { class: 'fc-days' }, i.days.map(dayBox))));
      });
      document.body.setAttribute('data-forecasts', String(issues.length));
    }).catch(function (e) { EH.msg(target, 'error', t('error_load') + ': ' + e.message); });
  }

  function warnings(target) {
    EH.getJSON('/api/v1/forecasts').then(function (issues) {
      EH.clear(target);
      var on = issues.filter(function (i) { return i.warning && i.warning.level > 0; });
      if (!on.length) { target.append(el('li', { class: 'muted' }, t('warnings_none'))); return; }
      on.sort(function (a, b) { return b.warning.level - a.warning.level; }).forEach(function (i) {
        target.append(el('li', { 'data-city': i.target_code }, warningBadge(i.warning), ' ', el('b', null, i.name || i.target_code),
          el('div', { class: 'muted small' }, i.warning.reason + ' · ' + EH.fmtTime(i.issued_at))));
      });
    }).catch(function (e) { EH.msg(target, 'error', t('error_load') + ': ' + e.message); });
  }

  function vsObserved(target, city, site) {
    var get = function (q) { return EH.getJSON('/api/v1/forecasts/observed?days=30&' + q); };
    // the station's own issues when it has verified ones, else its city's
    var first = site ? get('site=' + encodeURIComponent(site)).catch(function () { return []; }) : Promise.resolve([]);
    Promise.all([EH.loadECharts(), first])
      .then(function (res) { return res[1].length ? res[1] : get('city=' + encodeURIComponent(city)); })
      .then(function (rows) {
        if (!rows.length) { EH.msg(target, 'info', t('forecast_no_verification')); return; }
        var chart = EH.chart(target);
        chart.setOption({
          grid: { left: 40, right: 8, top: 28, bottom: 24 },
          legend: { data: [t('forecast_d1'), t('observed')] },
          tooltip: { trigger: 'axis' },
          xAxis: { type: 'category', data: rows.map(function (r) { return r.day.slice(5); }) },
          yAxis: { type: 'value', minInterval: 1 },
          series: [
            { type: 'line', name: t('forecast_d1'), data: rows.map(function (r) { return r.aqi; }) },
            { type: 'line', name: t('observed'), data: rows.map(function (r) { return r.observed_aqi; }) }
          ]
        });
        document.body.setAttribute('data-forecast-vs-obs', String(rows.length));
      }).catch(function (e) { EH.msg(target, 'error', t('error_load') + ': ' + e.message); });
  }

  function hourly(target, city, site) {
    var get = function (q) { return EH.getJSON('/api/v1/forecasts/hourly?' + q); };
    Promise.all([EH.loadECharts(), get('site=' + encodeURIComponent(site)).catch(function () { return { hours: [] }; })])
      .then(function (res) {
        return res[1].hours.length ? res[1] : get('city=' + encodeURIComponent(city));
      }).then(function (body) {
        var hs = body.hours;
        if (!hs.length) { EH.msg(target, 'info', t('forecast_hourly_none')); return; }
        var chart = EH.chart(target);
        chart.setOption({
          grid: { left: 40, right: 8, top: 28, bottom: 24 },
          legend: { top: 0, data: [t('forecast_hourly_aqi')] },
          tooltip: { trigger: 'axis' },
          xAxis: { type: 'category', data: hs.map(function (h) { return EH.fmtTime(h.time); }) },
          yAxis: { type: 'value', minInterval: 1 },
          series: [{ type: 'bar', name: t('forecast_hourly_aqi'), data: hs.map(function (h) {
            return { value: h.aqi, itemStyle: { color: EH.aqiColor(h.level || 0) } };
          }) }]
        });
        target.setAttribute('data-issue', String(body.issue.id));
        document.body.setAttribute('data-forecast-hourly', String(hs.length));
      }).catch(function (e) { EH.msg(target, 'error', t('error_load') + ': ' + e.message); });
  }

  var hr = EH.$('#forecast-hourly');
  if (hr) EH.forecastHourly = function (c, site) { hourly(hr, c, site); };
  var s = EH.$('#forecast-strip');
  if (s) strip(s);
  var w = EH.$('#warnings-list');
  if (w) warnings(w);
  var v = EH.$('#forecast-vs-obs');
  if (v) {
    var city = EH.params && EH.params.code ? null : v.getAttribute('data-city');
    if (city) vsObserved(v, city);
    EH.forecastVsObserved = function (c, site) { vsObserved(v, c, site); };
  }
})();
