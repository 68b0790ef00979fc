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
      el('th', { class: 'num' }, t('latest_reading')), el('th', { class: 'num' }, t('judged_value')),
      el('th', { class: 'num' }, t('limit')), el('th', null, t('unit')))));
    var tb = el('tbody');
    // the limit is compared with the value of its own kind (hourly/daily mean, measured or converted), never with
    // the newest real-time reading
    function judged(it) {
      if (it.limit === null || it.limit === undefined) return '—';
      var what = t(it.limit_period === 'day' ? 'day_mean' : 'hour_mean') + ', ' +
        t(it.basis === 'converted' ? 'basis_converted' : 'basis_measured') +
        (it.basis === 'converted' && it.o2_reference !== null ? ' (' + t('o2_ref') + ' ' + it.o2_reference + '%)' : '');
      return el('span', { class: 'judged', title: what + (it.judged_start ? ' · ' + EH.fmtTime(it.judged_start, true) : '') },
        el('span', { class: it.exceeding ? 'pill exceeding' : '' }, EH.fmt(it.judged_value)),
        el('small', { class: 'muted' }, ' ' + what));
    }
    rows.forEach(function (o) {
      var items = o.items.length ? o.items : [null];
      items.forEach(function (it, i) {
        tb.append(el('tr', { class: it && it.exceeding ? 'exceed' : '' },
          el('td', null, i === 0 ? (o.enterprise_name || o.enterprise || '') : ''),
          el('td', null, i === 0 ? o.name + ' (' + o.code + ')' : ''),
          el('td', null, i === 0 ? el('span', { class: 'pill ' + o.status }, t(o.status)) : ''),
          el('td', null, it ? (EH.lang === 'en' ? it.name_en : it.name_zh) || it.parameter : t('no_data')),
          el('td', { class: 'num', title: it && it.time ? EH.fmtTime(it.time, true) : '' }, it ? EH.fmt(it.value) : ''),
          el('td', { class: 'num' }, it ? judged(it) : ''),
          el('td', { class: 'num' }, it && it.limit !== null ? EH.fmt(it.limit) + ' (' +
            t(it.limit_period === 'day' ? 'day_mean' : 'hour_mean') + ')' : '—'),
          el('td', null, it ? it.limit_unit || it.unit || '' : '')));
      });
    });
    tbl.append(tb);
    box.append(el('div', { class: 'scroll', style: 'max-height:none' }, tbl));
  }).catch(function (e) { EH.msg(box, 'error', t('error_load') + ': ' + e.message); });
})();
