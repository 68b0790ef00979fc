/* Disclosed online monitoring of key polluting units: newest values against the permit limits. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var box = EH.$('#sources');
  EH.getJSON('/api/v1/web/sources').then(function (rows) {
    EH.clear(box);
    if (!rows.length) { box.append(el('p', { class: 'muted' }, t('no_sources'))); return; }
    var tbl = el('table', { class: 'data', id: 'sources-table' }, el('thead', null, el('tr', null,
      el('th', null, t('enterprise')), el('th', null, t('outlet')), el('th', null, t('status')), el('th', null, t('parameter')),
      el('th', { class: 'num' }, t('latest')), el('th', { class: 'num' }, t('limit')), el('th', null, t('unit')),
      el('th', null, t('time')))));
    var tb = el('tbody');
    rows.forEach(function (o) {
      var items = o.items.length ? o.items : [null];
      items.forEach(function (it, i) {
        tb.append(el('tr', { class: it && it.exceeding ? 'exceed' : '' },
          el('td', null, i === 0 ? (o.enterprise_name || o.enterprise || '') : ''),
          el('td', null, i === 0 ? o.name + ' (' + o.code + ')' : ''),
          el('td', null, i === 0 ? el('span', { class: 'pill ' + o.status }, t(o.status)) : ''),
          el('td', null, it ? (EH.lang === 'en' ? it.name_en : it.name_zh) || it.parameter : t('no_data')),
          el('td', { class: 'num' }, it ? el('span', { class: it.exceeding ? 'pill exceeding' : '' }, EH.fmt(it.value)) : ''),
          el('td', { class: 'num' }, it && it.limit !== null ? EH.fmt(it.limit) + (it.limit_period === 'day' ? ' (d)' : '') : '—'),
          el('td', null, it ? it.unit : ''), el('td', null, it ? EH.fmtTime(it.time) : '')));
      });
    });
    tbl.append(tb);
    box.append(el('div', { class: 'scroll', style: 'max-height:none' }, tbl));
  }).catch(function (e) { EH.msg(box, 'error', t('error_load') + ': ' + e.message); });
})();
