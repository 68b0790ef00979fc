/* Assessments page: functional-zone noise of one point (GET /api/v1/assessments/noise) and soil samples pasted as
   CSV (POST /api/v1/assessments/soil). Every value from data is set as text. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#assess-msg');

  function ok(v) {
    if (v === null || v === undefined) return el('span', { class: 'muted' }, t('no_data'));
    return el('span', { class: 'pill' }, v ? t('assess_complies') : t('assess_exceeds'));
  }

  EH.$('#noise-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = new FormData(ev.target);
    var q = new URLSearchParams({ site: f.get('site') });
    if (f.get('from')) q.set('from', f.get('from'));
    if (f.get('to')) q.set('to', f.get('to'));
    EH.getJSON('/api/v1/assessments/noise?' + q.toString()).then(function (d) {
      EH.clear(msg);
      EH.$('#noise-summary').textContent = d.name + ' · ' + d.zone + ' · ' + t('assess_day') + ' ' +
        EH.fmt(d.day_compliance_rate, 1) + '% · ' + t('assess_night') + ' ' + EH.fmt(d.night_compliance_rate, 1) + '%' +
        (d.gaps.length ? ' · ' + t('assess_gaps') + ': ' + d.gaps.length : '');
      var tb = EH.clear(EH.$('#noise-table tbody'));
      if (!d.days.length) tb.append(el('tr', null, el('td', { colspan: 5, class: 'muted' }, t('no_data'))));
      d.days.forEach(function (r) {
        tb.append(el('tr', null, el('td', null, r.date), el('td', null, EH.fmt(r.ld, 1)), el('td', null, ok(r.ld_complies)),
          el('td', null, EH.fmt(r.ln, 1)), el('td', null, ok(r.ln_complies))));
      });
    }).catch(function (e) { EH.msg(msg, 'error', e.message); });
  });

  function parseCsv(text) {
    var lines = text.split(/\r?\n/).filter(function (l) { return l.trim(); });
    if (lines.length < 2) return [];
    var head = lines[0].split(',').map(function (h) { return h.trim(); });
    return lines.slice(1).map(function (l) {
      var cells = l.split(','), o = {};
      head.forEach(function (h, i) { o[h] = (cells[i] || '').trim(); });
      return o;
    });
  }

  EH.$('#soil-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var rows = parseCsv(new FormData(ev.target).get('csv') || '');
    EH.postJSON('/api/v1/assessments/soil', rows).then(function (d) {
      EH.clear(msg);
      var cols = ['site', 'land_use', 'ph'].concat(d.pollutants.map(function (p) { return p + '_class'; }), ['class', 'error']);
      var th = EH.clear(EH.$('#soil-table thead')), tb = EH.clear(EH.$('#soil-table tbody'));
      th.append(el('tr', null, cols.map(function (c) { return el('th', null, c); })));
      d.samples.forEach(function (s) {
        tb.append(el('tr', null, cols.map(function (c) { return el('td', null, s[c] === undefined ? '' : String(s[c])); })));
      });
    }).catch(function (e) { EH.msg(msg, 'error', e.message); });
  });
})();
