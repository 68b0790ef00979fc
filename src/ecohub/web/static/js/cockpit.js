/* Cockpit (驾驶舱): key figures, charts and the live alert feed (server-sent events, read with fetch so that the
   signed-in user's token goes with it and the feed shows only what the role may see). */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#cockpit-msg');
  EH.requireRole(EH.STAFF, msg).then(init).catch(function () { EH.$('#kpis').classList.add('hidden'); });

  function kpi(id, value, unit, sub, cls) {
    var box = EH.$('#kpi-' + id);
    var v = box.querySelector('.value');
    EH.clear(v).append(value === null || value === undefined ? '—' : String(value));
    if (unit) v.append(el('small', null, ' ' + unit));
    box.querySelector('.sub').textContent = sub || '';
    box.classList.remove('good', 'bad');
    if (cls) box.classList.add(cls);
  }

  function init(me) {
    var charts = {};
    ['levels', 'trend', 'ranking', 'water'].forEach(function (k) { charts[k] = EH.chart(EH.$('#c-' + k), true); });
    var bg = { backgroundColor: 'transparent' };

    function load() {
      return EH.getJSON('/api/v1/web/cockpit').then(function (d) {
        EH.$('#generated').textContent = t('updated') + ' ' + EH.fmtTime(d.generated_at, true);
        var y = d.air_year;
        kpi('good_days', y.good_share, '%', t('kpi_days') + ' ' + y.days + (y.from ? ' (' + y.from + ' – ' + y.to + ')' : ''),
          y.good_share === null ? null : y.good_share >= 80 ? 'good' : 'bad');
        kpi('pm25', y.pm25_mean, 'µg/m³', t('kpi_pm25_target') + ' ' + y.pm25_target + ' µg/m³',
          y.pm25_mean === null ? null : y.pm25_mean <= y.pm25_target ? 'good' : 'bad');
        kpi('water_good', d.water.good_share, '%', d.water.good + ' / ' + d.water.classified);
        kpi('exceed_today', d.alerts.exceedances_today, null, '', d.alerts.exceedances_today ? 'bad' : 'good');
        kpi('offline', d.devices.offline, '/ ' + d.devices.devices, '> ' + d.devices.offline_minutes + ' min', d.devices.offline ? 'bad' : 'good');
        kpi('alerts', d.alerts.open, null, Object.keys(d.alerts.by_severity).map(function (s) {
          return t('severity_' + s) + ' ' + d.alerts.by_severity[s];
        }).join(' · '), d.alerts.open ? 'bad' : 'good');
        if (d.complaints) {
          kpi('complaints', d.complaints.open, null, t('st_received') + ' ' + d.complaints.by_status.received + ' · ' +
            t('st_accepted') + ' ' + d.complaints.by_status.accepted);
          var c = d.complaints, box = EH.clear(EH.$('#c-complaints'));
          box.append(el('dl', { class: 'kv' },
            ['received', 'accepted', 'rejected', 'handled', 'closed'].map(function (s) {
              return [el('dt', null, t('st_' + s)), el('dd', null, String(c.by_status[s]))];
            }),
            el('dt', null, '∅ → ' + t('st_accepted')), el('dd', null, c.mean_days_to_accept === null ? '—' : c.mean_days_to_accept + ' d'),
            el('dt', null, '∅ → ' + t('st_closed')), el('dd', null, c.mean_days_to_close === null ? '—' : c.mean_days_to_close + ' d')));
        }
        var lv = [1, 2, 3, 4, 5, 6];
        charts.levels.setOption(Object.assign({}, bg, {
          tooltip: { trigger: 'item' },
          series: [{ type: 'pie', radius: ['40%', '70%'], label: { color: '#cfe0ea' },
            data: lv.map(function (l) { return { name: EH.levelName(l), value: d.aqi_now.levels[l], itemStyle: { color: EH.aqiColor(l) } }; })
              .filter(function (x) { return x.value > 0; }) }]
        }));
        charts.trend.setOption(Object.assign({}, bg, {
          tooltip: { trigger: 'axis' }, grid: { left: 30, right: 8, top: 10, bottom: 24 },
          xAxis: { type: 'category', data: d.daily_levels.days.map(function (x) { return x.slice(5); }) },
          yAxis: { type: 'value', minInterval: 1 },
          series: lv.map(function (l) {
            return { name: EH.levelName(l), type: 'bar', stack: 'c', data: d.daily_levels.levels[l], itemStyle: { color: EH.aqiColor(l) } };
          })
        }));
        var rk = d.ranking.filter(function (r) { return r.index !== null; }).reverse();
        charts.ranking.setOption(Object.assign({}, bg, {
          tooltip: { trigger: 'axis' }, grid: { left: 70, right: 16, top: 10, bottom: 24 },
          xAxis: { type: 'value' }, yAxis: { type: 'category', data: rk.map(function (r) { return r.name; }) },
          series: [{ type: 'bar', data: rk.map(function (r) { return r.index; }), itemStyle: { color: '#4fc3f7' } }]
        }));
        charts.water.setOption(Object.assign({}, bg, {
          tooltip: { trigger: 'axis' }, grid: { left: 30, right: 8, top: 10, bottom: 24 },
          xAxis: { type: 'category', data: lv.map(function (c) { return EH.ROMAN[c]; }) }, yAxis: { type: 'value', minInterval: 1 },
          series: [{ type: 'bar', data: lv.map(function (c) { return { value: d.water.classes[c], itemStyle: { color: EH.waterColor(c) } }; }) }]
        }));
        document.body.setAttribute('data-cockpit', 'loaded');
      }).catch(function (e) { EH.msg(msg, 'error', t('error_load') + ': ' + e.message); });
    }
    load();
    setInterval(load, 120000);

    // --- live feed ---------------------------------------------------------------------------------------------
    var feed = EH.$('#feed'), state = EH.$('#live-state'), seen = {};
    // admins and officers acknowledge and close alerts here (the API checks the role and, for an officer, the
    // region, and writes the audit row); buttons carry the alert id only, never data as markup
    var canAct = !!me && (me.role === 'admin' || me.role === 'officer');
    function actions(a) {
      var id = a.alert_id || a.id;
      if (!canAct || !id || a.status === 'closed') return null;
      return el('span', { class: 'actions' },
        a.status === 'open' ? el('button', { type: 'button', class: 'small', 'data-act': 'acknowledge', 'data-id': id },
          t('alert_ack')) : null,
        el('button', { type: 'button', class: 'small', 'data-act': 'close', 'data-id': id }, t('alert_close')));
    }
    function acted(a) {
      feed.querySelectorAll('li[data-alert="' + Number(a.id) + '"]').forEach(function (li) {
        li.setAttribute('data-status', a.status);
        var box = li.querySelector('.actions');
        if (!box) return;
        if (a.status === 'closed') box.remove();
        else { var b = box.querySelector('[data-act=acknowledge]'); if (b) b.remove(); }
      });
    }
    feed.addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-act]');
      if (!b) return;
      var id = Number(b.getAttribute('data-id')), act = b.getAttribute('data-act'), body = {};
      if (act === 'close') {
        var reason = window.prompt(t('alert_close_reason'));
        if (!reason || !reason.trim()) return;
        body = { reason: reason.trim() };
      }
      b.disabled = true;
      EH.postJSON('/api/v1/alerts/' + id + '/' + act, body).then(function (a) {
        acted(a);
        EH.msg(msg, 'ok', t(a.status === 'closed' ? 'alert_closed' : 'alert_acked') + ' #' + a.id);
      }).catch(function (e) { b.disabled = false; EH.msg(msg, 'error', e.message); });
    });
    function item(a, fresh) {
      var key = a.id + ':' + (a.kind || 'opened');
      if (seen[key]) return;
      seen[key] = true;
      var li = el('li', { class: fresh ? 'new' : '', 'data-alert': a.alert_id || a.id, 'data-status': a.status },
        el('span', { class: 't' }, EH.fmtTime(a.at || a.opened_at)),
        el('span', { class: 'pill ' + a.severity }, t('severity_' + a.severity)), ' ',
        a.kind && a.kind !== 'opened' ? el('b', null, '[' + a.kind + '] ') : null,
        a.message, a.site ? el('span', { class: 'muted' }, ' · ' + (a.site_name || a.site)) : null, actions(a));
      if (fresh) feed.prepend(li); else feed.append(li);
      while (feed.children.length > 60) feed.removeChild(feed.lastChild);
    }
    EH.getJSON('/api/v1/alerts?limit=20').then(function (d) {
      d.results.forEach(function (a) { item(Object.assign({}, a, { kind: null }), false); });
    }).catch(function () {});

    var lastId = null, backoff = 1000;
    function connect() {
      var headers = {};
      if (lastId !== null) headers['Last-Event-ID'] = String(lastId);
      EH.api('/api/v1/web/alerts/stream', { headers: headers }).then(function (r) {
        if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
        state.textContent = t('live_connected'); state.className = 'live-state on';
        document.body.setAttribute('data-live', 'connected');
        backoff = 1000;
        var reader = r.body.getReader(), dec = new TextDecoder(), buf = '';
        function pump() {
          return reader.read().then(function (res) {
            if (res.done) throw new Error('closed');
            buf += dec.decode(res.value, { stream: true });
            var parts = buf.split('\n\n');
            buf = parts.pop();
            parts.forEach(function (block) {
              var ev = { event: 'message', data: '', id: null };
              block.split('\n').forEach(function (line) {
                if (line.indexOf(':') === 0) return;
                var i = line.indexOf(':'), f = i < 0 ? line : line.slice(0, i), v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
                if (f === 'data') ev.data += (ev.data ? '\n' : '') + v; else if (f === 'event') ev.event = v; else if (f === 'id') ev.id = v;
              });
              if (ev.id !== null) lastId = Number(ev.id);
              if (ev.event === 'hello' || !ev.data) return;
              var a = JSON.parse(ev.data);
              item(a, true);
              if (ev.event === 'opened') {
                var v = EH.$('#kpi-alerts .value');
                var n = parseInt(v.firstChild && v.firstChild.textContent, 10);
                if (!isNaN(n)) {
                  v.firstChild.textContent = String(n + 1);
                  EH.$('#kpi-alerts').classList.remove('good');
                  EH.$('#kpi-alerts').classList.add('bad');
                }
              }
            });
            return pump();
          });
        }
        return pump();
      }).catch(function () {
        state.textContent = t('live_reconnecting'); state.className = 'live-state off';
        document.body.setAttribute('data-live', 'reconnecting');
        setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 30000);
      });
    }
    connect();
  }
})();
