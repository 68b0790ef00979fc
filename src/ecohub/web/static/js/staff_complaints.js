/* Staff view of complaints: list within the user's region, phone masked unless the role may call back, and the
   workflow buttons (accept, reject with a reason, handled with what was done, close). */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#staff-msg');
  var NEXT = { received: ['accepted', 'rejected'], accepted: ['handled', 'rejected'], handled: ['closed'], rejected: ['closed'], closed: [] };
  EH.requireRole(EH.STAFF, msg).then(function (me) {
    var canAct = me.role === 'admin' || me.role === 'officer';
    function load() {
      var st = EH.$('#status-filter').value;
      EH.getJSON('/api/v1/complaints?limit=500' + (st ? '&status=' + st : '')).then(function (d) {
        var tb = EH.clear(EH.$('#complaints-table tbody'));
        if (!d.results.length) tb.append(el('tr', null, el('td', { colspan: 8, class: 'muted' }, t('no_data'))));
        d.results.forEach(function (c) {
          var actions = el('td', null, canAct ? NEXT[c.status].map(function (s) {
            return el('button', { class: 'ghost', type: 'button', onclick: function () {
              var note = null;
              if (s === 'rejected' || s === 'handled') { note = prompt(t('st_' + s)); if (!note) return; }
              EH.postJSON('/api/v1/complaints/' + c.tracking_code + '/status', { status: s, note: note }).then(load)
                .catch(function (e) { EH.msg(msg, 'error', e.message); });
            } }, t('st_' + s));
          }) : null);
          tb.append(el('tr', { id: c.tracking_code }, el('td', null, el('a', { href: '/complaints/' + c.tracking_code }, c.tracking_code_display)),
            el('td', null, el('span', { class: 'pill' }, t('st_' + c.status))), el('td', null, t('cat_' + c.category)),
            el('td', null, c.region_name), el('td', null, EH.fmtTime(c.submitted_at, true)),
            el('td', { style: 'white-space:normal;max-width:380px' }, c.description,
              c.possible_duplicates && c.possible_duplicates.length ? el('div', { class: 'small muted' }, '≈ ' + c.possible_duplicates.length) : null),
            el('td', null, c.phone || '—'), actions));
        });
      }).catch(function (e) { EH.msg(msg, 'error', e.message); });
    }
    EH.$('#status-filter').addEventListener('change', load);
    load();
  }).catch(function () {});
})();
