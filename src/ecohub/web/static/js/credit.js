/* Enterprise credit page (企业环境信用): the newest rating with its colour level, the facts and the points they
   cost, the vetoes (一票否决), and every version (ratings are versioned, never overwritten). Staff and the
   enterprise itself; the API applies the scope. Text from data is set as text (EH.el). */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#cr-msg');
  var uscc = EH.params.uscc;
  var COLOURS = { green: '#2e7d32', blue: '#1565c0', yellow: '#f9a825', red: '#c62828', black: '#212121' };

  EH.requireRole(EH.STAFF.concat(['enterprise']), msg).then(function () {
    return EH.getJSON('/api/v1/credit/enterprises/' + encodeURIComponent(uscc));
  }).then(show).catch(function (e) { if (e && e.message !== 'forbidden') EH.msg(msg, 'error', String(e.message || e)); });

  function show(rows) {
    if (!rows.length) { EH.msg(msg, 'info', t('cr_none')); document.body.setAttribute('data-credit', 'none'); return; }
    var r = rows[0];
    EH.$('#cr-name').textContent = (r.name || '') + ' · ' + r.year;
    var lv = EH.clear(EH.$('#cr-level'));
    lv.setAttribute('data-level', r.level);
    lv.append(el('span', { class: 'pill', style: 'background:' + (COLOURS[r.level] || '#777') + ';color:#fff' },
      t('lv_' + r.level)), ' ', el('span', null, r.level_name), ' · ' + t('cr_score') + ' ' + r.score);
    var tb = EH.clear(EH.$('#cr-points tbody'));
    (r.points || []).forEach(function (p) {
      tb.append(el('tr', { 'data-indicator': p.indicator }, el('td', null, p.name),
        el('td', null, (p.fact == null ? (p.basis || '-') : String(p.fact) + ' ' + (p.unit || ''))), el('td', null, String(p.points))));
    });
    if (!(r.points || []).length) tb.append(el('tr', null, el('td', null, t('cr_no_points'))));
    var ul = EH.clear(EH.$('#cr-vetoes'));
    (r.vetoes || []).forEach(function (v) { ul.append(el('li', { 'data-veto': v.item }, v.reason)); });
    if (!(r.vetoes || []).length) ul.append(el('li', null, t('cr_no_vetoes')));
    var vt = EH.clear(EH.$('#cr-versions tbody'));
    rows.forEach(function (x) {
      vt.append(el('tr', null, el('td', null, String(x.year)), el('td', null, String(x.version)),
        el('td', null, t('lv_' + x.level)), el('td', null, String(x.score)), el('td', null, x.method || ''),
        el('td', null, EH.fmtTime(x.computed_at, true))));
    });
    document.body.setAttribute('data-credit', r.level);
  }
})();
