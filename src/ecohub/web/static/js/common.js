/* ecohub web — shared helpers (window.EH): messages, API calls with the signed-in user's token, safe DOM
   building, colours of the national standards, the offline base map. No framework; no inline scripts. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('eh-config').textContent);
  var M = JSON.parse(document.getElementById('eh-messages').textContent);
  var EH = window.EH = { cfg: cfg, lang: cfg.lang, params: cfg.params || {} };

  EH.t = function (k) { return Object.prototype.hasOwnProperty.call(M, k) ? M[k] : k; };

  // --- colours -------------------------------------------------------------------------------------------
  // HJ 633-2012 Table 2 / HJ 633-2026 Table 1: green, yellow, orange, red, purple, maroon
  EH.AQI_COLORS = ['#00E400', '#FFFF00', '#FF7E00', '#FF0000', '#99004C', '#7E0023'];
  // GB 3838 classes I..V, worse than V — colours UNCONFIRMED (common practice; STANDARDS.md §3.3)
  EH.WATER_COLORS = { 1: '#1E6FD9', 2: '#1E6FD9', 3: '#00B050', 4: '#FFD700', 5: '#FF8C00', 6: '#E60000' };
  EH.STATUS_COLORS = { normal: '#2e7d32', exceeding: '#d50000', offline: '#9e9e9e', suspicious: '#8e24aa' };
  EH.GREY = '#b0b8bf';
  EH.aqiColor = function (level) { return level ? EH.AQI_COLORS[level - 1] : EH.GREY; };
  EH.waterColor = function (cls) { return EH.WATER_COLORS[cls] || EH.GREY; };
  EH.levelName = function (level) { return level ? EH.t('aqi_level_' + level) : EH.t('no_data'); };
  EH.waterName = function (cls) { return cls ? EH.t('water_class_' + cls) : EH.t('no_data'); };
  EH.ROMAN = { 1: 'Ⅰ', 2: 'Ⅱ', 3: 'Ⅲ', 4: 'Ⅳ', 5: 'Ⅴ', 6: '劣Ⅴ' };

  // --- DOM ----------------------------------------------------------------------------------------------
  /** EH.el('a', {href: '/x', class: 'c'}, 'text', child…): builds elements; text is never parsed as HTML. */
  EH.el = function (tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k === 'style') e.style.cssText = v;
        else if (k.slice(0, 2) === 'on' && typeof v === 'function') e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : String(v));
      });
    }
    function add(c) {
      if (c === null || c === undefined || c === false) return;
      if (Array.isArray(c)) c.forEach(add);
      else e.append(c instanceof Node ? c : String(c));
    }
    for (var i = 2; i < arguments.length; i++) add(arguments[i]);
    return e;
  };
  /** Text for the few places that only take an HTML string (ECharts tooltip formatters): & < > " ' escaped. */
  var ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  EH.esc = function (s) {
    return String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g, function (c) { return ESC[c]; });
  };
  /** Tooltip or popup content from data: a text node in a span (Leaflet parses a string as HTML). */
  EH.tip = function () { return EH.el.apply(null, ['span', null].concat([].slice.call(arguments))); };
  // Defence in depth: Leaflet sets string content of tooltips and popups with innerHTML; make it text everywhere,
  // so that a name from the data can never become markup even where a caller forgot EH.tip.
  if (window.L && L.DivOverlay) {
    L.DivOverlay.include({
      _updateContent: function () {
        if (!this._content) return;
        var node = this._contentNode;
        var content = typeof this._content === 'function' ? this._content(this._source || this) : this._content;
        while (node.firstChild) node.removeChild(node.firstChild);
        node.appendChild(content instanceof Node ? content : document.createTextNode(String(content)));
        this.fire('contentupdate');
      }
    });
  }
  EH.$ = function (sel, root) { return (root || document).querySelector(sel); };
  EH.clear = function (e) { while (e.firstChild) e.removeChild(e.firstChild); return e; };
  EH.msg = function (target, kind, text) {
    EH.clear(target).append(EH.el('div', { class: 'msg ' + kind, role: kind === 'error' ? 'alert' : 'status' }, text));
  };
  EH.aqiBadge = function (aqi, level) {
    return EH.el('span', { class: 'badge lv' + (level || 0) }, aqi === null || aqi === undefined ? '—' : String(aqi));
  };
  EH.waterBadge = function (cls) {
    return EH.el('span', { class: 'badge wc' + (cls || 0) }, cls ? EH.ROMAN[cls] : '—');
  };
  EH.fmt = function (v, nd) {
    if (v === null || v === undefined || Number.isNaN(v)) return '—';
    return nd === undefined ? String(v) : Number(v).toFixed(nd);
  };
  /** ISO time with offset → "MM-DD HH:mm" (Beijing, as the API answers). */
  EH.fmtTime = function (iso, full) {
    if (!iso) return '—';
    var m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(iso);
    if (!m) return iso;
    return (full ? m[1] + '-' : '') + m[2] + '-' + m[3] + ' ' + m[4] + ':' + m[5];
  };
  EH.bjDate = function (offsetDays) {  // a Beijing calendar date, YYYY-MM-DD
    var d = new Date(Date.now() + 8 * 3600e3 + (offsetDays || 0) * 86400e3);
    return d.toISOString().slice(0, 10);
  };

  // --- sign-in and API ------------------------------------------------------------------------------------
  var TK = 'ecohub.auth';
  EH.auth = {
    get: function () { try { return JSON.parse(sessionStorage.getItem(TK)); } catch (e) { return null; } },
    set: function (t) { sessionStorage.setItem(TK, JSON.stringify(t)); },
    clear: function () { sessionStorage.removeItem(TK); EH._me = null; }
  };
  function networkError() {
    var e = new Error(EH.t('err_network'));
    e.status = 0;
    return e;
  }
  var refreshing = null;
  /** Resolves true (new tokens), false (the refresh token was refused: signed out), or the Response of a
   *  transient failure (503, 429 …: the sign-in is kept). Only a 401 ends the sign-in. */
  function refresh() {
    var a = EH.auth.get();
    if (!a || !a.refresh_token) return Promise.resolve(false);
    if (!refreshing) {
      refreshing = fetch('/api/v1/auth/refresh', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: a.refresh_token })
      }).then(function (r) {
        if (r.status === 401) { EH.auth.clear(); return false; }
        if (!r.ok) return r;
        return r.json().then(function (t) { EH.auth.set(t); return true; });
      }, function () { throw networkError(); }).finally(function () { refreshing = null; });
    }
    return refreshing;
  }
  /** fetch() with the signed-in user's access token (refreshed once on 401). A network failure rejects with a
   *  message in the page's language. */
  EH.api = function (path, opts, retried) {
    opts = Object.assign({}, opts || {});
    var h = new Headers(opts.headers || {});
    var a = EH.auth.get();
    if (a && a.access_token) h.set('Authorization', 'Bearer ' + a.access_token);
    opts.headers = h;
    return fetch(path, opts).then(function (r) {
      if (r.status === 401 && a && !retried) {
        return refresh().then(function (ok) {
          if (ok === true) return EH.api(path, opts, true);
          return ok === false ? r : ok;
        });
      }
      return r;
    }, function () { throw networkError(); });
  };
  // statuses whose server text is generic (and English): the page says it in its own language instead
  var LOCAL_STATUS = { 401: 'err_401', 403: 'err_403', 404: 'err_404', 413: 'err_413', 429: 'err_429',
    500: 'err_500', 502: 'err_503', 503: 'err_503', 504: 'err_503' };
  /** Rejects with an Error whose message is for the user, in the page's language: the server's detail only where
   *  it names a field and value (400, 409, 422), behind a localised lead. */
  EH.problem = function (r) {
    return r.json().catch(function () { return {}; }).then(function (p) {
      var key = LOCAL_STATUS[r.status] || (r.status >= 500 ? 'err_500' : null);
      var text = key ? EH.t(key) : EH.t('err_400') + (p.detail ? ' ' + p.detail : ' (' + r.status + ')');
      var e = new Error(text);
      e.status = r.status; e.problem = p;
      throw e;
    });
  };
  EH.getJSON = function (path) {
    return EH.api(path).then(function (r) { return r.ok ? r.json() : EH.problem(r); });
  };
  EH.postJSON = function (path, body) {
    return EH.api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) { return r.ok ? (r.status === 204 ? {} : r.json()) : EH.problem(r); });
  };
  /** The signed-in user, or null. Only a 401 (the session is over) signs out; a 503, a network error or an
   *  aborted request (a quick click to another page) rejects and keeps the sign-in for the next try. */
  EH.me = function () {
    if (!EH.auth.get()) return Promise.resolve(null);
    if (!EH._me) {
      EH._me = EH.getJSON('/api/v1/me').catch(function (e) {
        EH._me = null;
        if (e.status === 401) { EH.auth.clear(); return null; }
        throw e;
      });
    }
    return EH._me;
  };
  EH.STAFF = ['admin', 'analyst', 'officer'];
  /** Resolves with the user when signed in with one of `roles`; otherwise shows why (or goes to /login). */
  EH.requireRole = function (roles, target) {
    return EH.me().then(function (me) {
      if (!me || me.role === 'public' && me.kind === 'anonymous') {
        location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
        return new Promise(function () {});
      }
      if (roles.indexOf(me.role) < 0) {
        if (target) EH.msg(target, 'error', EH.t('forbidden_role') + ' (' + EH.t('role_' + me.role) + ')');
        throw new Error('forbidden');
      }
      return me;
    }, function (e) {
      if (target) EH.msg(target, 'error', e.message);
      throw e;
    });
  };

  function header() {
    var who = EH.$('#who'), login = EH.$('#login-link'), logout = EH.$('#logout');
    EH.me().then(function (me) {
      if (!me) return;
      who.textContent = me.name + ' · ' + EH.t('role_' + me.role);
      login.classList.add('hidden');
      logout.classList.remove('hidden');
    }, function () {
      if (EH.auth.get()) logout.classList.remove('hidden');  // still signed in; who it is shows on the next load
    });
    logout.addEventListener('click', function () {
      EH.api('/api/v1/auth/logout', { method: 'POST' }).finally(function () {
        EH.auth.clear();
        location.assign('/');
      });
    });
  }

  // --- maps (Leaflet, canvas, no tiles unless configured) ----------------------------------------------------
  /** Diamond, square and triangle markers drawn by Leaflet's canvas renderer (as fast as circle markers). */
  function shapeMarker(shape) {
    return L.CircleMarker.extend({ options: { shape: shape }, _updatePath: function () { this._renderer._updateShape(this); } });
  }
  EH.installShapes = function () {
    if (!window.L || L.Canvas.prototype._updateShape) return;
    L.Canvas.include({
      _updateShape: function (layer) {
        if (!this._drawing || layer._empty()) return;
        var p = layer._point, ctx = this._ctx, r = Math.max(Math.round(layer._radius), 1), s = layer.options.shape;
        ctx.beginPath();
        if (s === 'diamond') {
          ctx.moveTo(p.x, p.y - r * 1.2); ctx.lineTo(p.x + r, p.y); ctx.lineTo(p.x, p.y + r * 1.2); ctx.lineTo(p.x - r, p.y);
        } else if (s === 'triangle') {
          ctx.moveTo(p.x, p.y - r * 1.15); ctx.lineTo(p.x + r, p.y + r * 0.85); ctx.lineTo(p.x - r, p.y + r * 0.85);
        } else {
          ctx.rect(p.x - r * 0.9, p.y - r * 0.9, r * 1.8, r * 1.8);
        }
        ctx.closePath();
        this._fillStroke(ctx, layer);
      }
    });
    EH.Diamond = shapeMarker('diamond');
    EH.Square = shapeMarker('square');
    EH.Triangle = shapeMarker('triangle');
  };

  var boundaryCache = {};
  EH.boundary = function (name) {
    if (!boundaryCache[name]) boundaryCache[name] = EH.getJSON('/api/v1/web/boundaries/' + name + '.geojson');
    return boundaryCache[name];
  };

  /** A map of the served province drawn from the shipped boundaries (no internet needed). Options:
   *  counties: also load county boundaries (as a layer returned in .counties, not added). */
  EH.baseMap = function (id, opts) {
    opts = opts || {};
    EH.installShapes();
    var tiles = cfg.tiles || {};
    var map = L.map(id, { preferCanvas: true, zoomSnap: 0.25, minZoom: 4, maxZoom: tiles.url ? tiles.max_zoom : 14,
      attributionControl: !!tiles.url, worldCopyJump: false });
    map.createPane('bounds');
    map.getPane('bounds').style.zIndex = 300;
    map.getPane('bounds').style.pointerEvents = 'none';
    var boundsRenderer = L.canvas({ pane: 'bounds', padding: 0.5 });
    var renderer = L.canvas({ padding: 0.5, tolerance: 3 });
    if (tiles.url) L.tileLayer(tiles.url, { attribution: tiles.attribution || '', maxZoom: tiles.max_zoom }).addTo(map);
    map.setView([39.0, 116.0], 7);
    var fill = !tiles.url;
    var ready = Promise.all([
      EH.boundary('provinces').then(function (fc) {
        L.geoJSON(fc, { renderer: boundsRenderer, interactive: false, style: {
          color: '#aab4bd', weight: 1, fillColor: '#eceff2', fillOpacity: fill ? 1 : 0 } }).addTo(map);
      }),
      EH.boundary('province').then(function (fc) {
        var layer = L.geoJSON(fc, { renderer: boundsRenderer, interactive: false, style: {
          color: '#5b6b78', weight: 2, fillColor: '#ffffff', fillOpacity: fill ? 1 : 0 } }).addTo(map);
        if (!opts.noFit) map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false });
        return layer;
      }),
      EH.boundary('cities').then(function (fc) {
        var layer = L.geoJSON(fc, { renderer: boundsRenderer, interactive: false, style: {
          color: '#8d99a4', weight: 1, dashArray: '3 3', fill: false } }).addTo(map);
        EH.cityShapes = fc;
        return layer;
      })
    ]).catch(function (e) { console.warn('boundaries:', e.message); });
    return { map: map, renderer: renderer, ready: ready };
  };

  /** Signal for tests and the benchmark: markers are on the canvas (two animation frames after adding). */
  EH.markDrawn = function (n) {
    return new Promise(function (resolve) {
      requestAnimationFrame(function () {
        requestAnimationFrame(function () {
          window.__ehMapDrawn = { t: performance.now(), markers: n };
          document.body.setAttribute('data-map-drawn', String(n));
          resolve(n);
        });
      });
    });
  };

  EH.legendAqi = function (el) {
    EH.clear(el).append(EH.el('span', null, EH.t('legend_aqi') + ':'));
    for (var i = 1; i <= 6; i++) {
      el.append(EH.el('span', null, EH.el('span', { class: 'sw', style: 'background:' + EH.AQI_COLORS[i - 1] }),
        EH.levelName(i)));
    }
  };
  EH.legendWater = function (el) {
    EH.clear(el).append(EH.el('span', { class: 'help', title: EH.t('legend_water_note') }, EH.t('legend_water') + ' ⓘ:'));
    [[1, 'Ⅰ–Ⅱ'], [3, 'Ⅲ'], [4, 'Ⅳ'], [5, 'Ⅴ'], [6, '劣Ⅴ']].forEach(function (c) {
      el.append(EH.el('span', { title: EH.t('legend_water_note') },
        EH.el('span', { class: 'sw', style: 'background:' + EH.waterColor(c[0]) }), c[1]));
    });
  };

  /** ECharts, loaded when a page first needs it (the portal draws its map without it: ~360 kB less). */
  var echartsLoading = null;
  EH.loadECharts = function () {
    if (window.echarts) return Promise.resolve(window.echarts);
    if (!echartsLoading) {
      echartsLoading = new Promise(function (resolve, reject) {
        var sc = document.createElement('script');
        sc.src = '/static/vendor/echarts/echarts.min.js?v=' + cfg.asset_v;
        sc.onload = function () { resolve(window.echarts); };
        sc.onerror = function () { echartsLoading = null; reject(new Error('echarts')); };
        document.head.appendChild(sc);
      });
    }
    return echartsLoading;
  };

  /** ECharts instance that follows its element's size. */
  EH.chart = function (el, dark) {
    var c = echarts.init(el, dark ? 'dark' : null, { renderer: 'canvas' });
    c.setOption({ animationDuration: 400, animationDurationUpdate: 300 });
    window.addEventListener('resize', function () { c.resize(); });
    return c;
  };

  EH.sortTable = function (table, rows, render, initialKey, initialDir) {
    var state = { key: initialKey, dir: initialDir || 1 };
    function draw() {
      var k = state.key, d = state.dir;
      var sorted = rows.slice().sort(function (a, b) {
        var x = a[k], y = b[k];
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (x < y ? -1 : x > y ? 1 : 0) * d;
      });
      render(sorted);
      table.querySelectorAll('th.sortable').forEach(function (th) {
        th.classList.toggle('asc', th.dataset.key === k && d === 1);
        th.classList.toggle('desc', th.dataset.key === k && d === -1);
      });
    }
    table.querySelectorAll('th.sortable').forEach(function (th) {
      th.addEventListener('click', function () {
        if (state.key === th.dataset.key) state.dir = -state.dir; else { state.key = th.dataset.key; state.dir = 1; }
        draw();
      });
    });
    draw();
    return { redraw: function (newRows) { if (newRows) rows = newRows; draw(); } };
  };

  header();
})();
