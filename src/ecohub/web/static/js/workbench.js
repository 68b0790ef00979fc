/* Officer workbench: the cases, random-inspection tasks and complaints the caller may see (officers: their
   region), the most urgent deadline first, overdue steps marked; a case's timeline on click. Text from data is set as text (EH.el). */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#wb-msg');

  EH.requireRole(EH.STAFF, msg).then(function () {
    EH.$('#wb-overdue').addEventListener('change', load);
    load();
  }).catch(function () {});

  function load() {
    var q = EH.$('#wb-overdue').checked ? '?overdue=true' : '';
    EH.getJSON('/api/v1/cases' + q).then(function (rows) {
      var tb = EH.clear(EH.$('#wb-cases tbody'));
      rows.forEach(function (c) {
        var link = el('a', { href: '#', 'data-open': c.number, onclick: function (e) { e.preventDefault(); show(c.number); } },
          c.number);
        var page = el('a', { href: '/cases/' + encodeURIComponent(c.number), 'data-page': c.number, title: t('cp_title') }, ' ↗');
        tb.append(el('tr', { 'data-case': c.number, 'data-overdue': c.overdue ? '1' : '0' }, el('td', null, link, page),
          el('td', null, c.enterprise_name || ''), el('td', null, c.state_name + ' (' + c.state + ')'),
          el('td', null, (c.state_due || '') + (c.overdue ? ' ' + t('wb_overdue') : '')), el('td', null, c.owner)));
      });
      document.body.setAttribute('data-cases', String(rows.length));
    }).catch(function (e) { EH.msg(msg, 'error', String(e && e.message || e)); });
    EH.getJSON('/api/v1/inspections/tasks' + q).then(function (rows) {  // objects of open draws not yet inspected
      var tb = EH.clear(EH.$('#wb-inspections tbody'));
      rows.forEach(function (x) {
        tb.append(el('tr', { 'data-task': String(x.draw_item_id), 'data-overdue': x.overdue ? '1' : '0',
                             'data-mine': x.mine ? '1' : '0' },
          el('td', null, x.enterprise_name + ' ', el('span', { class: 'mono' }, x.enterprise_uscc)),
          el('td', null, x.region_name), el('td', null, x.period + ' #' + x.draw_id),
          el('td', null, x.inspectors.map(function (i) { return i.name; }).join('、') +
            (x.mine ? ' (' + t('wb_mine') + ')' : '')),
          el('td', null, x.due + (x.overdue ? ' ' + t('wb_overdue') : ''))));
      });
      document.body.setAttribute('data-inspections', String(rows.length));
    }).catch(function (e) { EH.msg(msg, 'error', String(e && e.message || e)); });
    EH.getJSON('/api/v1/complaint-tasks' + q).then(function (rows) {  // the 12369 loop: stage and deadline
      var tb = EH.clear(EH.$('#wb-complaints tbody'));
      rows.forEach(function (c) {
        tb.append(el('tr', { 'data-complaint': c.tracking_code, 'data-overdue': c.overdue ? '1' : '0' },
          el('td', { class: 'mono' }, c.tracking_code_display), el('td', null, c.region_name),
          el('td', null, c.stage_name + ' (' + c.stage + ')'),
          el('td', null, (c.stage_due || '') + (c.overdue ? ' ' + t('wb_overdue') : '')), el('td', null, c.handler || '')));
      });
      document.body.setAttribute('data-complaints', String(rows.length));
    }).catch(function (e) { EH.msg(msg, 'error', String(e && e.message || e)); });
  }

  function show(number) {
    EH.getJSON('/api/v1/cases/' + encodeURIComponent(number)).then(function (c) {
      EH.$('#wb-case-number').textContent = c.number;
      var ol = EH.clear(EH.$('#wb-timeline'));
      c.timeline.forEach(function (e) {
        ol.append(el('li', { 'data-step': e.to_state }, e.on_date + ' ' + e.to_name + ' — ' + (e.actor || '') +
          (e.note ? '：' + e.note : '')));
      });
      EH.$('#wb-case').classList.remove('hidden');
      document.body.setAttribute('data-timeline', c.number);
    }).catch(function (e) { EH.msg(msg, 'error', String(e && e.message || e)); });
  }
})();
