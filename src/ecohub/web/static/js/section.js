/* Surface-water section page: GB 3838 class now, the latest values, a month of the main items. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var code = EH.params.code, enc = encodeURIComponent(code);
  var MAIN = ['codmn', 'nh3n', 'tp', 'do', 'ph'];
  EH.legendWater(EH.$('#legend-water'));
  var base = EH.baseMap('sec-map', { noFit: true });
  var params = {};
  function fail(e) {
    EH.msg(EH.$('#sec-error'), 'error', (e.status === 404 ? t('not_found') : t('error_load')) + ': ' + e.message);
    EH.$('#sec-meta').textContent = '';
  }
  var paramReq = EH.getJSON('/api/v1/parameters').then(function (ps) { ps.forEach(function (p) { params[p.name] = p; }); })
    .catch(function () {});
  function pname(n) { var p = params[n]; return p ? (EH.lang === 'en' ? p.name_en : p.name_zh) : n; }

  EH.getJSON('/api/v1/sites/' + enc).then(function (s) {
    EH.$('#sec-name').textContent = s.name + ' (' + s.code + ')';
    var a = s.attrs || {};
    EH.$('#sec-meta').textContent = [t('kind_' + s.kind), a.basin, s.region_name,
      a.position_approximate ? t('position_approx') : null].filter(Boolean).join(' · ');
    base.map.setView([s.lat, s.lon], 9);
    EH.sectionMarker = new EH.Diamond([s.lat, s.lon], { renderer: base.renderer, radius: 9, weight: 2, color: '#222',
      fillColor: EH.waterColor(EH.sectionClass), fillOpacity: 1 }).addTo(base.map);
  }).catch(fail);

  Promise.all([EH.getJSON('/api/v1/water/quality?site=' + enc), paramReq]).then(function (res) {
    var w = res[0][0];
    if (!w) { EH.$('#sec-cat').textContent = t('no_data'); return; }
    var box = EH.$('#sec-class');
    box.textContent = w.class ? EH.ROMAN[w.class] : '—';
    box.className = 'num wc' + (w.class || 0);
    EH.sectionClass = w.class;
    if (EH.sectionMarker) EH.sectionMarker.setStyle({ fillColor: EH.waterColor(w.class) });
    EH.$('#sec-cat').textContent = EH.waterName(w.class) + (w.category_zh ? ' · ' + (EH.lang === 'en' ? w.category_en : w.category_zh) : '');
    EH.$('#sec-official').textContent = w.official_class ? t('official_class') + ': ' + w.official_class : '';
    EH.$('#sec-worst').textContent = w.worst_items.length ? t('worst_items') + ': ' + w.worst_items.map(pname).join(', ') : '';
    EH.$('#sec-time').textContent = EH.fmtTime(w.time, true) + ' ' + t('beijing_time');
    var tb = EH.$('#sec-values tbody');
    Object.keys(w.values).sort().forEach(function (k) {
      tb.append(el('tr', null, el('td', null, pname(k)), el('td', { class: 'num' }, EH.fmt(w.values[k])),
        el('td', null, params[k] ? params[k].unit : '')));
    });
  }).catch(fail);

  var chart = EH.chart(EH.$('#sec-chart'));
  chart.showLoading();
  var from = EH.bjDate(-30) + 'T00:00:00';
  var qs = MAIN.map(function (p) { return '&parameter=' + p; }).join('');
  Promise.all([EH.getJSON('/api/v1/observations?site=' + enc + qs + '&from=' + from + '&limit=10000'), paramReq])
    .then(function (res) {
      chart.hideLoading();
      var by = {};
      res[0].results.forEach(function (r) { (by[r.parameter] = by[r.parameter] || []).push([r.time, r.value]); });
      var names = Object.keys(by);
      if (!names.length) { chart.setOption({ title: { text: t('no_data'), left: 'center', top: 'middle', textStyle: { color: '#999', fontSize: 14 } } }); return; }
      chart.setOption({
        tooltip: { trigger: 'axis' }, legend: { top: 0, data: names.map(pname) },
        grid: { left: 44, right: 16, top: 34, bottom: 30 },
        xAxis: { type: 'time', min: Date.parse(from + '+08:00'), max: Date.now() }, yAxis: { type: 'value' },
        series: names.map(function (n) {
          return { name: pname(n), type: 'line', showSymbol: by[n].length < 40, symbolSize: 8, data: by[n] };
        })
      });
    }).catch(function (e) { chart.hideLoading(); if (e.status !== 404) fail(e); });
})();
