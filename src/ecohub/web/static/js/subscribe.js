/* Public subscriptions (定制推送) through the alerts package: sign up, confirm, unsubscribe. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var out = EH.$('#subscribe-result');
  var btn = EH.$('#token-action');
  if (btn) {
    btn.addEventListener('click', function () {
      var action = btn.dataset.action;
      EH.postJSON('/api/v1/web/subscriptions/' + action, { token: btn.dataset.token }).then(function () {
        btn.disabled = true;
        EH.msg(out, 'ok', t(action === 'confirm' ? 'subscribe_confirmed' : 'subscribe_unsubscribed'));
      }).catch(function (e) { EH.msg(out, 'error', e.status === 404 ? t('subscribe_bad_token') : e.message); });
    });
    return;
  }
  var sel = EH.$('#target');
  Promise.all([EH.getJSON('/api/v1/aqi/hourly?by=city'), EH.getJSON('/api/v1/aqi/hourly')]).then(function (res) {
    EH.clear(sel);
    var g1 = el('optgroup', { label: t('cities') }), g2 = el('optgroup', { label: t('stations') });
    res[0].forEach(function (c) { g1.append(el('option', { value: 'city:' + c.city }, c.name)); });
    res[1].forEach(function (s) { g2.append(el('option', { value: 'site:' + s.site }, s.name + ' (' + s.site + ')')); });
    sel.append(g1, g2);
  }).catch(function (e) { EH.msg(out, 'error', t('error_load') + ': ' + e.message); });
  EH.$('#subscribe-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var v = sel.value.split(':');
    var body = { email: EH.$('#email').value.trim(), min_level: Number(EH.$('#min_level').value) };
    body[v[0] === 'city' ? 'city' : 'site'] = v[1];
    EH.postJSON('/api/v1/web/subscriptions', body).then(function (d) {
      EH.clear(out).append(el('div', { class: 'msg ok' }, t('subscribe_ok') + ' (' + d.name + ')'),
        el('div', { class: 'msg ' + (d.confirmation_sent ? 'ok' : 'info'), id: 'subscribe-delivery' },
          t(d.confirmation_sent ? 'subscribe_mail_sent' : 'subscribe_no_mail')));
    }).catch(function (e) {
      EH.msg(out, 'error', e.status === 503 ? t('subscribe_unavailable') : e.message);
    });
  });
})();
