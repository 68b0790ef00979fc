/* Incidents page: report an incident, run the screening dispersion at it, list the affected receptors (text from
   data is always set as text), list the incidents within the user's scope. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#inc-msg');
  var current = null;

  EH.requireRole(EH.STAFF, msg).then(init).catch(function () {});

  function val(id) { return EH.$(id).value.trim(); }
  function num(id) { var v = val(id); return v === '' ? null : Number(v); }

  function refresh() {
    EH.getJSON('/api/v1/incidents').then(function (rows) {
      var tb = EH.clear(EH.$('#inc-table tbody'));
      rows.forEach(function (r) {
        tb.append(el('tr', { 'data-incident': r.id }, el('td', null, r.code), el('td', null, r.title),
                     el('td', null, r.level || ''), el('td', null, r.status), el('td', null, EH.fmtTime(r.occurred_at, true))));
      });
    });
  }

  function init(me) {
    var canWrite = me.role === 'admin' || me.role === 'officer';
    if (canWrite) EH.$('#inc-forms').classList.remove('hidden');
    refresh();
    EH.$('#inc-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var body = { title: val('#inc-name'), lon: num('#inc-lon'), lat: num('#inc-lat'), occurred_at: val('#inc-time'),
                   substance: val('#inc-substance') || null, amount_kg: num('#inc-amount'),
                   enterprise_uscc: val('#inc-uscc') || null };
      EH.postJSON('/api/v1/incidents', body).then(function (inc) {
        current = inc;
        EH.msg(msg, 'ok', inc.code + ' · ' + (inc.level_zh || '') + ' (' + inc.level + ')');
        EH.$('#disp-go').disabled = false;
        document.body.setAttribute('data-incident', String(inc.id));
        refresh();
      }).catch(function (err) { EH.msg(msg, 'error', String(err && err.message || err)); });
    });
    EH.$('#disp-form').addEventListener('submit', function (e) {
      e.preventDefault();
      if (!current) return;
      var thr = val('#d-thr').split(/[,，\s]+/).filter(Boolean).map(Number);
      var body = { wind_ms: num('#d-wind'), wind_from_deg: num('#d-from'), rate_gs: num('#d-rate'),
                   height_m: num('#d-height') || 0, thresholds_mg_m3: thr, stability: val('#d-stab') };
      EH.postJSON('/api/v1/incidents/' + current.id + '/dispersion', body).then(function (res) {
        var out = EH.clear(EH.$('#disp-out'));
        out.append(el('p', { class: 'muted' }, res.screening),
          el('p', null, 'max ' + res.max_concentration_mg_m3 + ' mg/m³ @ ' + res.max_distance_m + ' m'),
          el('h3', null, t('em_affected')),
          el('table', { class: 'data', id: 'affected' },
            el('tr', null, el('th', null, ''), el('th', null, t('em_arrival_min')), el('th', null, t('em_conc'))),
            res.receptors.map(function (r) {
              return el('tr', { 'data-receptor': r.id }, el('td', null, r.name || r.id), el('td', null, String(r.arrival_min)),
                        el('td', null, String(r.concentration_mg_m3)));
            })),
          el('p', null, el('a', { href: '/map', id: 'to-map' }, t('inc_on_map'))));
        document.body.setAttribute('data-dispersion', String(res.receptors.length));
      }).catch(function (err) { EH.msg(msg, 'error', String(err && err.message || err)); });
    });
  }
})();
