/* One map for staff (一张图): layers that switch on and off, a card for anything clicked (latest values, trend,
   alerts, permit), search by name or code, a region filter within the user's scope, a day's replay of AQI. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#map-msg');

  EH.requireRole(['admin', 'analyst', 'officer', 'enterprise'], msg).then(init).catch(function () {
    EH.$('#layers').classList.add('hidden');
  });

  function init(me) {
    var q = new URLSearchParams(location.search);
    var only = q.get('layers');  // e.g. ?layers=none (benchmark baseline) or ?layers=air,water
    var base = EH.baseMap('map');
    var map = base.map, R = base.renderer;
    var groups = {}, items = [], byCode = {}, params = {};
    ['air', 'water', 'noise', 'sources', 'alerts', 'complaints', 'redline', 'risk', 'counties', 'other', 'soil'].forEach(function (k) {
      groups[k] = L.featureGroup();
    });
    // one tooltip and one click handler per site layer (not per marker): thousands of sites stay cheap
    ['air', 'water', 'noise', 'sources', 'alerts', 'other'].forEach(function (k) {
      groups[k].bindTooltip(function (m) { return EH.tip(k === 'alerts' ? m.site.name + ' · ' + t('layer_alerts') + ' ' + m.site.alerts : label(m.site)); });
      groups[k].on('click', function (e) { openCard(e.layer.site); });
    });
    var checkbox = function (k) { return EH.$('input[data-layer="' + k + '"]'); };
    if (only) {
      var want = only === 'none' ? [] : only.split(',');
      document.querySelectorAll('input[data-layer]').forEach(function (c) { c.checked = want.indexOf(c.dataset.layer) >= 0; });
    }
    EH.legendAqi(EH.$('#legend-aqi'));
    EH.legendWater(EH.$('#legend-water'));
    var ls = EH.clear(EH.$('#legend-status'));
    ls.append(el('span', null, t('layer_sources') + ':'));
    ['normal', 'exceeding', 'offline', 'suspicious'].forEach(function (s) {
      ls.append(el('span', null, el('span', { class: 'sw', style: 'background:' + EH.STATUS_COLORS[s] }), t(s)));
    });
    EH.getJSON('/api/v1/parameters').then(function (ps) { ps.forEach(function (p) { params[p.name] = p; }); }).catch(function () {});
    function pname(n) { var p = params[n]; return p ? (EH.lang === 'en' ? p.name_en : p.name_zh) : n; }

    function setCount(k, n, none) {
      var c = EH.$('[data-count="' + k + '"]');
      if (c) c.textContent = none ? t('layer_none') : String(n);
    }
    function sync(k) {
      var c = checkbox(k);
      if (c && c.checked) groups[k].addTo(map); else map.removeLayer(groups[k]);
    }
    document.querySelectorAll('input[data-layer]').forEach(function (c) {
      c.addEventListener('change', function () { lazy(c.dataset.layer); sync(c.dataset.layer); });
    });

    // --- sites ----------------------------------------------------------------------------------------------
    function layerOf(kind) {
      if (kind === 'air_station' || kind === 'micro_station') return 'air';
      if (kind === 'water_section') return 'water';
      if (kind === 'noise_point') return 'noise';
      if (kind === 'gas_outlet' || kind === 'water_outlet') return 'sources';
      return 'other';
    }
    function markerFor(s) {
      var k = layerOf(s.kind), ll = [s.lat, s.lon], o = { renderer: R, weight: 1, color: '#222', fillOpacity: 0.95 };
      if (k === 'air') return L.circleMarker(ll, Object.assign(o, { radius: s.kind === 'micro_station' ? 4 : 6, fillColor: EH.aqiColor(s.level) }));
      if (k === 'water') return new EH.Diamond(ll, Object.assign(o, { radius: 6, fillColor: EH.waterColor(s.level) }));
      if (k === 'noise') return new EH.Triangle(ll, Object.assign(o, { radius: 6, fillColor: '#8d6e63' }));
      if (k === 'sources') return new EH.Square(ll, Object.assign(o, { radius: 6, fillColor: EH.STATUS_COLORS[s.status] || EH.GREY }));
      return L.circleMarker(ll, Object.assign(o, { radius: 4, fillColor: '#90a4ae' }));
    }
    function label(s) {
      var k = layerOf(s.kind);
      if (k === 'air') return s.name + ' AQI ' + EH.fmt(s.value);
      if (k === 'water') return s.name + ' ' + EH.waterName(s.level);
      if (k === 'sources') return s.name + ' · ' + t(s.status);
      return s.name + (s.value !== null ? ' ' + s.value : '');
    }

    var features = only === 'none' ? Promise.resolve({ columns: [], sites: [] }) : EH.getJSON('/api/v1/web/map/features');
    features.then(function (d) {
      var cols = d.columns;
      d.sites.forEach(function (row) {
        var s = {};
        cols.forEach(function (c, i) { s[c] = row[i]; });
        var m = markerFor(s);
        m.site = s;
        var it = { s: s, m: m, layer: layerOf(s.kind), ring: null };
        if (s.alerts > 0) {
          it.ring = L.circleMarker([s.lat, s.lon], { renderer: R, radius: 11, weight: 3, color: '#d50000', fill: false });
          it.ring.site = s;
        }
        items.push(it);
        byCode[s.code] = it;
      });
      fillRegions();
      fillSearch();
      applyFilter();
      Object.keys(groups).forEach(sync);
      return base.ready.then(function () { EH.markDrawn(items.length); });
    }).catch(function (e) { EH.msg(msg, 'error', t('error_load') + ': ' + e.message); });

    function applyFilter() {
      var pre = EH.$('#region').value;
      var counts = { air: 0, water: 0, noise: 0, sources: 0, alerts: 0, other: 0 };
      ['air', 'water', 'noise', 'sources', 'alerts', 'other'].forEach(function (k) { groups[k].clearLayers(); });
      items.forEach(function (it) {
        if (pre && it.s.region.indexOf(pre) !== 0) return;
        it.m.addTo(groups[it.layer]);
        counts[it.layer]++;
        if (it.ring) { it.ring.addTo(groups.alerts); counts.alerts += it.s.alerts; }
      });
      Object.keys(counts).forEach(function (k) { setCount(k, counts[k], counts[k] === 0 && k !== 'alerts'); });
      EH.$('[data-row="noise"]').classList.toggle('muted', counts.noise === 0);
    }

    function fillRegions() {
      var sel = EH.$('#region');
      var present = {};
      items.forEach(function (it) { present[it.s.region] = true; });
      EH.getJSON('/api/v1/regions?limit=10000&under=' + (Object.keys(present)[0] || '13').slice(0, 2) + '0000').then(function (d) {
        var codes = Object.keys(present);
        d.results.forEach(function (r) {
          if (r.level === 1) return;
          var pre = r.level === 2 ? r.code.slice(0, 4) : r.code;
          if (!codes.some(function (c) { return c.indexOf(pre) === 0; })) return;
          sel.append(el('option', { value: pre }, (r.level === 3 ? '　' : '') + r.name));
        });
      }).catch(function () {});
      sel.addEventListener('change', function () {
        applyFilter();
        var pts = items.filter(function (it) { return !sel.value || it.s.region.indexOf(sel.value) === 0; })
          .map(function (it) { return [it.s.lat, it.s.lon]; });
        if (pts.length) map.fitBounds(L.latLngBounds(pts).pad(0.2), { maxZoom: 11 });
      });
    }

    function fillSearch() {
      var dl = EH.$('#search-list');
      items.forEach(function (it) { dl.append(el('option', { value: it.s.name + ' (' + it.s.code + ')' })); });
      function go() {
        var v = EH.$('#search').value.trim();
        if (!v) return;
        var m = /\(([^()]+)\)$/.exec(v);
        var it = byCode[m ? m[1] : v] || items.find(function (x) {
          return x.s.code.toLowerCase() === v.toLowerCase() || x.s.name === v;
        }) || items.find(function (x) { return x.s.name.indexOf(v) >= 0 || x.s.code.toLowerCase().indexOf(v.toLowerCase()) >= 0; });
        if (!it) { EH.msg(msg, 'info', t('not_found') + ': ' + v); return; }
        EH.clear(msg);
        var c = checkbox(it.layer);
        if (c && !c.checked) { c.checked = true; sync(it.layer); }
        map.setView([it.s.lat, it.s.lon], Math.max(map.getZoom(), 10));
        openCard(it.s);
      }
      EH.$('#search').addEventListener('change', go);
      EH.$('#search').addEventListener('keydown', function (e) { if (e.key === 'Enter') { e.preventDefault(); go(); } });
    }

    // --- layers loaded when first switched on ------------------------------------------------------------------
    var loaded = {};
    function lazy(k) {
      if (loaded[k]) return;
      if (k === 'counties') {
        loaded[k] = true;
        EH.boundary('counties').then(function (fc) {
          L.geoJSON(fc, { renderer: R, interactive: false, style: { color: '#8d99a4', weight: 0.8, dashArray: '2 3', fill: false } })
            .addTo(groups.counties);
          setCount('counties', fc.features.length);
        });
      } else if (k === 'redline' || k === 'risk') {
        loaded[k] = true;
        EH.getJSON('/api/v1/web/layers/' + k).then(function (fc) {
          if (!fc.available || !fc.features.length) { setCount(k, 0, true); return; }
          L.geoJSON(fc, {
            renderer: R,
            style: k === 'redline' ? { color: '#2e7d32', weight: 1, fillColor: '#66bb6a', fillOpacity: 0.35 } : {},
            pointToLayer: function (f, ll) { return new EH.Triangle(ll, { renderer: R, radius: 7, color: '#333', weight: 1, fillColor: '#fbc02d', fillOpacity: 1 }); },
            onEachFeature: function (f, layer) { if (f.properties && f.properties.name) layer.bindTooltip(EH.tip(String(f.properties.name))); }
          }).addTo(groups[k]);
          setCount(k, fc.features.length);
        }).catch(function () { setCount(k, 0, true); });
      } else if (k === 'soil') {  // soil samples, coloured by their worst GB 15618 / GB 36600 class
        loaded[k] = true;
        var SOIL = { below_screening: '#3A9C6B', between: '#F2C12E', above_intervention: '#C00000' };
        EH.getJSON('/api/v1/assessments/soil/samples?limit=5000').then(function (d) {
          L.geoJSON(d.features, {
            pointToLayer: function (f, ll) { return L.circleMarker(ll, { renderer: R, radius: 6, color: '#333', weight: 1, fillOpacity: 1, fillColor: SOIL[f.properties.worst] || EH.GREY }); },
            onEachFeature: function (f, layer) { layer.bindTooltip(EH.tip(f.properties.name + ' · ' + (f.properties.worst || t('no_data')))); }
          }).addTo(groups.soil);
          setCount('soil', d.features.length, !d.features.length);
        }).catch(function () { setCount('soil', 0, true); });
      } else if (k === 'complaints') {
        loaded[k] = true;
        EH.getJSON('/api/v1/complaints?status=open&limit=1000').then(function (d) {
          d.results.forEach(function (c) {
            var m = L.circleMarker([c.lat, c.lon], { renderer: R, radius: 6, weight: 2, color: '#e65100', fillColor: '#ffb74d', fillOpacity: 1 });
            m.bindTooltip(EH.tip(t('cat_' + c.category) + ' · ' + t('st_' + c.status) + ' · ' + c.tracking_code_display));
            m.on('click', function () { complaintCard(c); });
            m.addTo(groups.complaints);
          });
          setCount('complaints', d.results.length, !d.results.length);
        }).catch(function () { EH.$('[data-row="complaints"]').classList.add('hidden'); });
      }
    }
    Object.keys(groups).forEach(function (k) { var c = checkbox(k); if (c && c.checked) lazy(k); });

    // --- card ----------------------------------------------------------------------------------------------
    var panel = EH.$('#panel'), body = EH.$('#panel-body'), cardChart = null;
    EH.$('#panel-close').addEventListener('click', function () { panel.classList.add('hidden'); });

    function complaintCard(c) {
      panel.classList.remove('hidden');
      EH.clear(body).append(el('h3', { style: 'margin-top:0' }, t('cat_' + c.category) + ' · ' + c.tracking_code_display),
        el('p', null, el('span', { class: 'pill' }, t('st_' + c.status)), ' ', EH.fmtTime(c.submitted_at, true)),
        el('p', { style: 'white-space:pre-wrap' }, c.description),
        el('p', { class: 'small muted' }, c.region_name + (c.phone ? ' · ☎ ' + c.phone : '')),
        el('a', { href: '/staff/complaints#' + c.tracking_code }, t('card_open_page') + ' →'));
    }

    function openCard(s) {
      panel.classList.remove('hidden');
      var k = layerOf(s.kind);
      var page = s.kind === 'air_station' ? '/stations/' : s.kind === 'water_section' ? '/sections/' : null;
      var head = el('div', null,
        el('h3', { style: 'margin:0 24px 4px 0', id: 'card-title' }, s.name),
        el('div', { class: 'muted small', id: 'card-meta' }, s.code + ' · ' + t('kind_' + s.kind) + ' · ' + s.region),
        el('div', { style: 'margin:8px 0' },
          k === 'air' ? [EH.aqiBadge(s.value, s.level), ' ', EH.levelName(s.level)] :
          k === 'water' ? [EH.waterBadge(s.level), ' ', EH.waterName(s.level)] :
          el('span', { class: 'pill ' + s.status }, t(s.status)),
          s.time ? el('span', { class: 'muted small' }, '  ' + EH.fmtTime(s.time, true)) : null),
        page ? el('a', { href: page + encodeURIComponent(s.code) }, t('card_open_page') + ' →') : null);
      var latest = el('div', null, el('h3', null, t('card_latest')), el('div', { class: 'muted' }, t('loading')));
      var trend = el('div', null, el('h3', null, t('card_trend')), el('div', { class: 'chart mini', id: 'card-chart' }));
      var alerts = el('div', null, el('h3', null, t('card_alerts')), el('div', { class: 'muted' }, t('loading')));
      var permit = k === 'sources' ? el('div', null, el('h3', null, t('card_permit')), el('div', { class: 'muted' }, t('loading'))) : null;
      EH.clear(body).append(head, latest, trend, alerts);
      if (permit) body.append(permit);
      var enc = encodeURIComponent(s.code);

      EH.getJSON('/api/v1/sites/' + enc).then(function (d) {
        var meta = EH.$('#card-meta');
        if (meta) meta.textContent = s.code + ' · ' + t('kind_' + s.kind) + ' · ' + (d.region_name || s.region) +
          (d.enterprise ? ' · ' + d.enterprise : '');
        var rows = d.series.filter(function (x) { return x.latest_time; });
        var tbl = el('table', { class: 'data', id: 'card-latest' }, el('tbody', null, rows.length ? rows.map(function (x) {
          return el('tr', null, el('td', null, pname(x.parameter)), el('td', { class: 'num' }, EH.fmt(x.latest_value)),
            el('td', null, x.unit), el('td', { class: 'muted' }, EH.fmtTime(x.latest_time)));
        }) : el('tr', null, el('td', { class: 'muted' }, t('no_data')))));
        latest.replaceChild(tbl, latest.lastChild);
        var prefer = { air_station: 'pm25', micro_station: 'pm25', water_section: 'codmn' }[s.kind];
        var pick = rows.find(function (x) { return x.parameter === prefer; }) || rows[0];
        if (!pick) { EH.msg(EH.$('#card-chart'), 'info', t('no_data')); return; }
        var from = new Date(Date.parse(pick.latest_time) - 24 * 3600e3 + 8 * 3600e3).toISOString().slice(0, 19);
        return EH.getJSON('/api/v1/observations?site=' + enc + '&parameter=' + pick.parameter + '&interval=' + pick.interval +
          '&from=' + from + '&limit=2000').then(function (o) {
          if (cardChart) cardChart.dispose();
          cardChart = EH.chart(EH.$('#card-chart'));
          var pts = o.results.map(function (r) { return [Date.parse(r.time), r.value]; });
          if (pick.interval === 'hour' && pts.length > 1) {  // missing hours stay gaps (no line across them)
            var have = {}, t0 = pts[0][0], t1 = pts[pts.length - 1][0];
            pts.forEach(function (x) { have[x[0]] = x[1]; });
            pts = [];
            for (var tt = t0; tt <= t1; tt += 3600e3) pts.push([tt, tt in have ? have[tt] : null]);
          }
          cardChart.setOption({
            grid: { left: 40, right: 8, top: 22, bottom: 22 }, tooltip: { trigger: 'axis' },
            title: { text: pname(pick.parameter) + ' (' + pick.unit + ')', textStyle: { fontSize: 12 }, left: 0, top: 0 },
            xAxis: { type: 'time' }, yAxis: { type: 'value', scale: true },
            series: [{ type: 'line', showSymbol: o.results.length < 30, data: pts }]
          });
          document.body.setAttribute('data-card-chart', String(o.results.length));
        });
      }).catch(function (e) { EH.msg(latest, 'error', e.message); });

      EH.getJSON('/api/v1/alerts?site=' + enc + '&limit=20').then(function (d) {
        var open = d.results.filter(function (a) { return a.status !== 'closed'; });
        alerts.replaceChild(open.length ? el('ul', { class: 'small' }, open.map(function (a) {
          return el('li', null, el('span', { class: 'pill ' + a.severity }, t('severity_' + a.severity)), ' ', a.message,
            el('span', { class: 'muted' }, ' ' + EH.fmtTime(a.opened_at)));
        })) : el('div', { class: 'muted' }, t('card_no_alerts')), alerts.lastChild);
      }).catch(function () { alerts.replaceChild(el('div', { class: 'muted' }, t('card_no_alerts')), alerts.lastChild); });

      if (permit) {
        EH.getJSON('/api/v1/web/sites/' + enc + '/permit').then(function (d) {
          permit.replaceChild(d.limits.length ? el('table', { class: 'data' }, el('tbody', null, d.limits.map(function (l) {
            return el('tr', null, el('td', null, EH.lang === 'en' ? l.name_en : l.name_zh), el('td', null, l.period),
              el('td', { class: 'num' }, EH.fmt(l.limit_value)), el('td', null, l.unit + (l.converted_o2 ? ' @' + l.converted_o2 + '% O₂' : '')));
          }))) : el('div', { class: 'muted' }, t('card_no_permit')), permit.lastChild);
        }).catch(function (e) { permit.replaceChild(el('div', { class: 'muted' }, e.message), permit.lastChild); });
      }
    }

    // --- replay of the last 24 hours ----------------------------------------------------------------------------
    var replay = null, timer = null;
    var slider = EH.$('#slider'), label24 = EH.$('#replay-time');
    function show(h) {
      if (h >= 24 || !replay) {
        label24.textContent = t('replay_live');
        items.forEach(function (it) { if (it.layer === 'air') it.m.setStyle({ fillColor: EH.aqiColor(it.s.level) }); });
        return;
      }
      label24.textContent = EH.fmtTime(replay.times[h], true);
      items.forEach(function (it) {
        if (it.s.kind !== 'air_station') return;
        var i = replay.index[it.s.code];
        var lv = i === undefined ? null : replay.level[i][h];
        it.m.setStyle({ fillColor: EH.aqiColor(lv) });
      });
      document.body.setAttribute('data-replay-hour', String(h));
    }
    function loadReplay() {
      if (replay) return Promise.resolve(replay);
      return EH.getJSON('/api/v1/web/map/replay?hours=24').then(function (d) {
        d.index = {};
        d.sites.forEach(function (c, i) { d.index[c] = i; });
        replay = d;
        slider.max = String(d.times.length);
        return d;
      });
    }
    slider.addEventListener('input', function () { loadReplay().then(function () { show(Number(slider.value)); }); });
    EH.$('#play').addEventListener('click', function () {
      var b = EH.$('#play');
      if (timer) { clearInterval(timer); timer = null; b.textContent = t('play'); return; }
      loadReplay().then(function () {
        b.textContent = t('pause');
        if (Number(slider.value) >= replay.times.length) slider.value = '0';
        timer = setInterval(function () {
          var h = Number(slider.value) + 1;
          slider.value = String(h);
          show(h);
          if (h >= replay.times.length) { clearInterval(timer); timer = null; b.textContent = t('play'); }
        }, 700);
      });
    });
    EH.map = { map: map, groups: groups, items: items, openCard: openCard };
  }
})();
