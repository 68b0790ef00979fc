/* Public disclosure (公开): penalty decisions, credit levels of the year, the blacklist, published random draws —
   from the public API only. Text from data is set as text (EH.el), never as HTML. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#pub-msg');
  var year = new Date().getFullYear();

  function fill(sel, rows, cells) {
    var tb = EH.clear(EH.$(sel + ' tbody'));
    if (!rows.length) { tb.append(el('tr', null, el('td', null, t('pub_none')))); }
    rows.forEach(function (r) {
      tb.append(el('tr', null, cells(r).map(function (c) { return el('td', null, c == null ? '' : String(c)); })));
    });
  }
  function money(p) {
    return p.map(function (x) { return x.kind + (x.amount_yuan != null ? ' ' + x.amount_yuan : '') +
      (x.days ? ' (' + x.days + ')' : ''); }).join('; ');
  }
  Promise.all([
    EH.getJSON('/api/v1/public/penalties').then(function (rows) {
      fill('#pub-penalties', rows, function (r) { return [r.number, r.enterprise_name + ' ' + r.enterprise_uscc,
        r.violation, r.penalty_basis, money(r.penalties), r.decided_on]; });
      document.body.setAttribute('data-penalties', String(rows.length));
    }),
    EH.getJSON('/api/v1/public/credit?year=' + year).then(function (rows) {
      fill('#pub-credit', rows, function (r) { return [r.name + ' ' + r.uscc, r.level_name]; });
    }),
    EH.getJSON('/api/v1/public/blacklist').then(function (rows) {
      fill('#pub-blacklist', rows, function (r) { return [r.name + ' ' + r.uscc, r.start_on, r.reason]; });
    }),
    EH.getJSON('/api/v1/public/draws').then(function (rows) {
      fill('#pub-draws', rows, function (r) { return [r.period, r.seed, r.result_sha256]; });
      rows.forEach(function (r, i) {  // the period opens the draw's own page
        var td = EH.$('#pub-draws tbody').children[i].firstChild;
        EH.clear(td).append(el('a', { href: '/disclosure/draws/' + r.id, 'data-draw': String(r.id) }, r.period));
      });
    }),
    EH.getJSON('/api/v1/public/complaint-results').then(function (rows) {
      fill('#pub-results', rows, function (r) { return [r.region_name, t('cat_' + r.category), r.submitted_on,
        (r.published_at || '').slice(0, 10), r.result, r.satisfaction ? t('sat_' + r.satisfaction) : '']; });
      document.body.setAttribute('data-results', String(rows.length));
    })
  ]).then(function () { document.body.setAttribute('data-ready', '1'); })
    .catch(function (e) { EH.msg(msg, 'error', String(e && e.message || e)); });
})();
