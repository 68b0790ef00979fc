/* A published random draw (双随机一公开): period, region, seed, algorithm, the hashes of the directories and of
   the result, the objects drawn — what disclosure allows (the inspectors are not published); anyone re-runs the
   draw from its record ("verify"). Public API only. Text from data is set as text (EH.el). */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#dp-msg');
  var id = EH.params.draw_id;

  function dd(k, v) { return [el('dt', null, t(k)), el('dd', { class: 'mono' }, v == null ? '' : String(v))]; }

  EH.getJSON('/api/v1/public/draws/' + id).then(function (d) {
    var head = EH.clear(EH.$('#dp-head'));
    [].concat(dd('pub_period', d.period), dd('region', d.scope_code), dd('dp_seed', d.seed), dd('dp_algorithm', d.algorithm),
      dd('dp_ratios', JSON.stringify(d.ratios)), dd('dp_objects_sha', d.objects_sha256),
      dd('dp_inspectors_sha', d.inspectors_sha256), dd('dp_result_sha', d.result_sha256),
      dd('dp_drawn_at', EH.fmtTime(d.drawn_at, true))).forEach(function (n) { head.append(n); });
    var tb = EH.clear(EH.$('#dp-items tbody'));
    d.items.forEach(function (i, n) {
      tb.append(el('tr', { 'data-uscc': i.enterprise_uscc }, el('td', null, String(n + 1)), el('td', null, i.enterprise_name),
        el('td', { class: 'mono' }, i.enterprise_uscc), el('td', null, i.category)));
    });
    document.body.setAttribute('data-draw', String(d.id));
  }).catch(function (e) { EH.msg(msg, 'error', String(e && e.message || e)); });

  EH.$('#dp-verify').addEventListener('click', function () {
    EH.getJSON('/api/v1/public/draws/' + id + '/verify').then(function (v) {
      var s = EH.$('#dp-verified');
      s.textContent = v.same ? t('dp_same') : t('dp_differs') + (v.reason ? ' — ' + v.reason : '');
      s.setAttribute('data-same', v.same ? '1' : '0');
    }).catch(function (e) { EH.msg(msg, 'error', String(e && e.message || e)); });
  });
})();
