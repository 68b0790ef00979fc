/* Station page, trend panel: Mann–Kendall / Sen's slope of monthly PM2.5 and O3 (GET /api/v1/trends) and the
   correlation of PM2.5 with the meteorology of the last 90 days (GET /api/v1/trends/correlation). Text only. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var enc = encodeURIComponent(EH.params.code);
  var box = EH.$('#trend-body');
  var NAMES = { increasing: 'trend_increasing', decreasing: 'trend_decreasing', 'no trend': 'trend_none' };
  ['pm25', 'o3'].forEach(function (p) {
    EH.getJSON('/api/v1/trends?site=' + enc + '&parameter=' + p + '&interval=month').then(function (d) {
      var label = p === 'pm25' ? 'PM2.5' : 'O₃';
      var text = d.has_data
        ? label + ': ' + t(NAMES[d.trend]) + ' · Sen ' + EH.fmt(d.slope, 2) + ' µg/m³ ' + t('trend_per_year') +
          ' · p = ' + Number(d.p).toPrecision(3) + ' · ' + d.from + ' – ' + d.to + ' (n = ' + d.valid + ')'
        : label + ': ' + t('no_data');
      box.append(el('p', { 'data-parameter': p, title: d.note || '' }, text));
    }).catch(function () { box.append(el('p', { class: 'muted' }, t('no_data'))); });
  });
  EH.getJSON('/api/v1/trends/correlation?site=' + enc + '&parameter=pm25').then(function (rows) {
    var shown = rows.filter(function (r) { return r.pearson_r !== null; });
    if (!shown.length) return;
    box.append(el('p', { class: 'small muted' }, 'PM2.5 × ' + shown.map(function (r) {
      return r.with + ' r = ' + EH.fmt(r.pearson_r, 2) + ', ρ = ' + EH.fmt(r.spearman_rho, 2) + ' (n = ' + r.n + ')';
    }).join(' · ')));
  }).catch(function () {});
  document.body.setAttribute('data-trend', 'requested');
})();
