/* Permits page (officers: their region; an enterprise: its own permits): outlets, limits, emissions beside the
   permitted tonnage (chart), execution reports — the enterprise submits, the officer accepts or returns with
   reasons. Text from data is always set as text. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#pm-msg');
  var me = null, current = null, chart = null, monthly = null;

  EH.requireRole(EH.STAFF.concat(['enterprise']), msg).then(init).catch(function () {});

  function err(e) { EH.msg(msg, 'error', String(e && e.message || e)); }
  function num(v, d) { return v === null || v === undefined ? '—' : Number(v).toFixed(d === undefined ? 3 : d); }

  function init(user) {
    me = user;
    EH.getJSON('/api/v1/permits').then(function (rows) {
      var tb = EH.clear(EH.$('#pm-table tbody'));
      rows.forEach(function (r) {
        var a = el('a', { href: '?number=' + encodeURIComponent(r.number), 'data-permit': r.number }, r.number);
        a.addEventListener('click', function (e) { e.preventDefault(); history.replaceState(null, '', a.href); open(r.number); });
        tb.append(el('tr', null, el('td', null, a), el('td', null, r.enterprise_name),
                     el('td', null, t('pm_cat_' + r.category)), el('td', null, r.valid_from + ' … ' + r.valid_to),
                     el('td', null, r.status)));
      });
      var n = new URLSearchParams(location.search).get('number');
      if (n) open(n);
    }).catch(err);
    if (me.role === 'enterprise' || me.role === 'admin') EH.$('#pm-report-form').classList.remove('hidden');
    EH.$('#pm-report-form').addEventListener('submit', function (e) {
      e.preventDefault();
      if (!current) return;
      var body = { kind: EH.$('#pm-kind').value, period: EH.$('#pm-period').value.trim(),
                   content: { note: EH.$('#pm-note').value.trim() } };
      EH.postJSON('/api/v1/permits/' + encodeURIComponent(current.number) + '/reports', body).then(function (r) {
        EH.msg(msg, 'ok', t('pm_submitted') + ' ' + r.period);
        reports();
      }).catch(err);
    });
  }

  function open(number) {
    EH.getJSON('/api/v1/permits/' + encodeURIComponent(number)).then(function (d) {
      current = d;
      EH.$('#pm-detail').classList.remove('hidden');
      EH.$('#pm-head').textContent = d.number + ' · ' + d.enterprise_name;
      EH.$('#pm-sub').textContent = t('pm_cat_' + d.category) + ' · ' + (d.industry || '') + ' · ' + d.valid_from + ' … ' +
        d.valid_to + ' · ' + d.status + ' · v' + d.versions.length;
      var ob = EH.clear(EH.$('#pm-outlets tbody'));
      d.outlets.forEach(function (o) {
        ob.append(el('tr', null, el('td', null, o.outlet_code), el('td', null, t('pm_type_' + o.outlet_type)), el('td', null, o.site),
                     el('td', null, o.lon.toFixed(5) + ', ' + o.lat.toFixed(5))));
      });
      var lb = EH.clear(EH.$('#pm-limits tbody'));
      d.limits.forEach(function (x) {
        var o2 = x.converted_o2 === null ? '' : ' (' + x.converted_o2 + '% O2)';
        lb.append(el('tr', null, el('td', null, x.outlet || x.site), el('td', null, x.parameter), el('td', null, x.period),
                     el('td', null, x.limit_value + ' ' + x.unit + o2), el('td', null, x.standard || '')));
      });
      emissions(d);
      reports();
    }).catch(err);
  }

  function emissions(d) {
    var year = new Date().getFullYear();
    EH.getJSON('/api/v1/emissions?enterprise=' + encodeURIComponent(d.enterprise) + '&year=' + year + '&by=month').then(function (e) {
      EH.$('#pm-em-note').textContent = year + ' · ' + t('pm_elapsed') + ' ' + Math.round(e.elapsed_share * 100) + '% · ' + e.method;
      var names = e.pollutants.map(function (p) { return p.pollutant; });
      if (!chart) chart = echarts.init(EH.$('#pm-chart'));
      chart.setOption({
        tooltip: { trigger: 'axis', formatter: function (ps) {
          return ps.map(function (p) { return EH.esc(p.seriesName) + ': ' + EH.esc(num(p.value)) + ' t'; }).join('<br>');
        } },
        legend: { data: [t('pm_actual'), t('pm_projected'), t('pm_permitted')] },
        xAxis: { type: 'category', data: names }, yAxis: { type: 'value', name: 't' },
        series: [
          { name: t('pm_actual'), type: 'bar', data: e.pollutants.map(function (p) { return p.actual_t; }) },
          { name: t('pm_projected'), type: 'bar', data: e.pollutants.map(function (p) { return p.projected_t; }) },
          { name: t('pm_permitted'), type: 'bar', data: e.pollutants.map(function (p) { return p.permitted_t; }) }]
      });
      document.body.setAttribute('data-chart', String(names.length));
      // the tonnes of each month (the rollup's daily totals; gaps substituted over the year)
      var months = [];
      for (var m = 1; m <= 12; m++) months.push(year + '-' + (m < 10 ? '0' : '') + m);
      if (!monthly) monthly = echarts.init(EH.$('#pm-monthly'));
      monthly.setOption({
        tooltip: { trigger: 'axis', formatter: function (ps) {
          return EH.esc(ps[0].axisValue) + '<br>' + ps.map(function (p) {
            return EH.esc(p.seriesName) + ': ' + EH.esc(num(p.value)) + ' t'; }).join('<br>');
        } },
        legend: { data: names }, xAxis: { type: 'category', data: months }, yAxis: { type: 'value', name: 't' },
        series: e.pollutants.map(function (p) {
          var by = {};
          (p.periods || []).forEach(function (x) { by[x.period] = x.actual_t; });
          return { name: p.pollutant, type: 'bar', stack: 'm', data: months.map(function (k) { return by[k] || 0; }) };
        })
      }, true);
      document.body.setAttribute('data-monthly', String(months.length));
    }).catch(err);
  }

  function due() {
    EH.getJSON('/api/v1/permits/' + encodeURIComponent(current.number) + '/reports/due').then(function (rows) {
      var tb = EH.clear(EH.$('#pm-due tbody'));
      if (!rows.length) tb.append(el('tr', null, el('td', null, t('pub_none'))));
      rows.forEach(function (r) {
        var act = el('td');
        if (me.role === 'enterprise') {
          var fill = el('button', { type: 'button', id: 'pm-fill-' + r.kind + '-' + r.period }, t('pm_fill'));
          fill.addEventListener('click', function () {
            EH.$('#pm-kind').value = r.kind;
            EH.$('#pm-period').value = r.period;
            EH.$('#pm-note').focus();
          });
          act.append(fill);
        }
        tb.append(el('tr', { 'data-due': r.kind + ' ' + r.period, 'data-overdue': String(r.overdue) },
          el('td', null, t('pm_' + r.kind) + ' ' + r.period), el('td', null, r.deadline),
          el('td', r.overdue ? { style: 'color:#b00020' } : null, r.overdue ? t('pm_overdue') : t('pm_open_due')), act));
      });
      document.body.setAttribute('data-due', String(rows.length));
    }).catch(err);
  }

  function reports() {
    due();
    EH.getJSON('/api/v1/permits/' + encodeURIComponent(current.number) + '/reports').then(function (rows) {
      var tb = EH.clear(EH.$('#pm-reports tbody'));
      rows.forEach(function (r) {
        var act = el('td');
        if (r.state === 'submitted' && (me.role === 'officer' || me.role === 'admin')) {
          var note = el('input', { id: 'pm-return-note-' + r.id, placeholder: t('pm_reasons'), maxlength: '2000' });
          var ret = el('button', { id: 'pm-return-' + r.id }, t('pm_return'));
          var acc = el('button', { id: 'pm-accept-' + r.id }, t('pm_accept'));
          ret.addEventListener('click', function () { review(r.id, 'return', note.value.trim()); });
          acc.addEventListener('click', function () { review(r.id, 'accept', null); });
          act.append(note, ret, acc);
        }
        tb.append(el('tr', { 'data-report': r.id, 'data-state': r.state }, el('td', null, r.kind + ' ' + r.period),
                     el('td', null, t('pm_state_' + r.state)), el('td', null, String(r.prefilled.exceedance_alerts)),
                     el('td', null, r.review_note || ''), act));
      });
    }).catch(err);
  }

  function review(id, action, note) {
    EH.postJSON('/api/v1/permit-reports/' + id + '/review', { action: action, note: note || null }).then(function (r) {
      EH.msg(msg, 'ok', t('pm_state_' + r.state));
      reports();
    }).catch(err);
  }
})();
