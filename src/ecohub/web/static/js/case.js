/* Case page (执法案件): head (enterprise, violation, state, deadline, overdue), the timeline of every step,
   penalties and generated documents (downloaded with the caller's sign-in). Staff of the region and the
   enterprise concerned; the API decides what the caller may see. Text from data is set as text (EH.el). */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#cp-msg');
  var number = EH.params.number;

  EH.requireRole(EH.STAFF.concat(['enterprise']), msg).then(function () {
    return EH.getJSON('/api/v1/cases/' + encodeURIComponent(number));
  }).then(show).catch(function (e) { if (e && e.message !== 'forbidden') EH.msg(msg, 'error', String(e.message || e)); });

  function dd(k, v) { return [el('dt', null, t(k)), el('dd', null, v == null ? '' : String(v))]; }

  function show(c) {
    var head = EH.clear(EH.$('#cp-head'));
    [].concat(dd('pub_enterprise', (c.enterprise_name || '') + ' ' + (c.enterprise_uscc || '')),
      dd('pub_violation', c.legal_basis && c.legal_basis.name), dd('pub_basis', c.legal_basis && c.legal_basis.penalty_basis),
      dd('wb_state', c.state_name + ' (' + c.state + ')'),
      dd('wb_due', (c.state_due || '-') + (c.overdue ? ' ' + t('wb_overdue') : '')),
      dd('cp_decision_due', c.decision_due || '-'), dd('wb_owner', c.owner)).forEach(function (n) { head.append(n); });
    head.setAttribute('data-state', c.state);
    var ol = EH.clear(EH.$('#cp-timeline'));
    c.timeline.forEach(function (e) {
      ol.append(el('li', { 'data-step': e.to_state }, e.on_date + ' ' + e.to_name + ' — ' + (e.actor || '') +
        (e.note ? '：' + e.note : '')));
    });
    var pt = EH.clear(EH.$('#cp-penalties tbody'));
    c.penalties.forEach(function (p) {
      pt.append(el('tr', { 'data-kind': p.kind }, el('td', null, t('pk_' + p.kind)),
        el('td', null, p.amount_yuan == null ? '' : String(p.amount_yuan)), el('td', null, p.days ? String(p.days) : ''),
        el('td', null, p.paid_on || '')));
    });
    var dt = EH.clear(EH.$('#cp-documents tbody'));
    c.documents.forEach(function (d) {
      var btn = el('button', { type: 'button', 'data-doc': String(d.id), onclick: function () { download(d); } }, t('cp_download'));
      dt.append(el('tr', null, el('td', null, d.filename), el('td', { class: 'mono' }, d.sha256),
        el('td', null, String(d.size)), el('td', null, btn)));
    });
    document.body.setAttribute('data-case', c.number);
  }

  function download(d) {
    EH.api('/api/v1/cases/' + encodeURIComponent(number) + '/documents/' + d.id).then(function (r) {
      return r.ok ? r.blob() : EH.problem(r);
    }).then(function (b) {
      var a = el('a', { href: URL.createObjectURL(b), download: d.filename });
      document.body.append(a); a.click(); a.remove();
    }).catch(function (e) { EH.msg(msg, 'error', String(e && e.message || e)); });
  }
})();
