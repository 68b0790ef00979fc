/* Hazardous-waste manifests (officers: their region; an enterprise: what it generates or receives), filtered by
   state; each row shows the flow generator → receiver. Text from data is set as text. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#wst-msg');

  EH.requireRole(EH.STAFF.concat(['enterprise']), msg).then(function () {
    EH.$('#wst-state').addEventListener('change', load);
    load();
  }).catch(function () {});

  function load() {
    var s = EH.$('#wst-state').value;
    EH.getJSON('/api/v1/waste/manifests' + (s ? '?state=' + encodeURIComponent(s) : '')).then(function (rows) {
      var tb = EH.clear(EH.$('#wst-table tbody'));
      rows.forEach(function (m) {
        tb.append(el('tr', { 'data-manifest': m.number, 'data-state': m.state }, el('td', null, m.number),
          el('td', null, t('wst_state_' + m.state)), el('td', null, m.code), el('td', null, String(m.quantity_t)),
          el('td', null, (m.generator || '') + ' → ' + (m.receiver || '') + (m.cross_region ? ' ⇄' : '')),
          el('td', null, m.deadline_at ? EH.fmtTime(m.deadline_at, true) : '')));
      });
      document.body.setAttribute('data-manifests', String(rows.length));
    }).catch(function (e) { EH.msg(msg, 'error', String(e && e.message || e)); });
  }
})();
