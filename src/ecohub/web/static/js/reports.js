/* Reports page: the kept issues (newest first) with downloads, and a form to generate a new one. Downloads go
   through the API with the signed-in user's token (a Blob), so nothing is public. Text from data is set as text. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#reports-msg');

  function save(url, name) {
    return EH.api(url).then(function (r) {
      if (!r.ok) return EH.problem(r);
      return r.blob().then(function (b) {
        var a = el('a', { href: URL.createObjectURL(b), download: name });
        document.body.append(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    }).catch(function (e) { EH.msg(msg, 'error', e.message); });
  }

  function load() {
    return EH.getJSON('/api/v1/reports?limit=200').then(function (rows) {
      var tb = EH.clear(EH.$('#reports-table tbody'));
      if (!rows.length) tb.append(el('tr', null, el('td', { colspan: 9, class: 'muted' }, t('no_data'))));
      rows.forEach(function (r) {
        tb.append(el('tr', { 'data-id': String(r.id) },
          el('td', null, String(r.id)), el('td', null, t('report_' + r.kind)), el('td', null, r.period),
          el('td', null, r.region_code), el('td', null, r.format.toUpperCase()), el('td', null, EH.fmtTime(r.created_at, true)),
          el('td', null, r.created_by || '—'), el('td', null, Math.round(r.size / 1024) + ' KB'),
          el('td', null,
            el('button', { class: 'ghost', type: 'button', onclick: function () { save(r.download, r.filename); } }, t('report_download')),
            el('button', { class: 'ghost', type: 'button', onclick: function () {
              EH.getJSON('/api/v1/reports/' + r.id).then(function (d) {
                var b = new Blob([JSON.stringify(d.figures, null, 1)], { type: 'application/json' });
                var a = el('a', { href: URL.createObjectURL(b), download: r.filename + '.json' });
                document.body.append(a); a.click(); a.remove();
              }).catch(function (e) { EH.msg(msg, 'error', e.message); });
            } }, t('report_figures')))));
      });
    }).catch(function (e) { EH.msg(msg, 'error', e.message); });
  }

  EH.requireRole(EH.STAFF, msg).then(function () {
    var form = EH.$('#report-form');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var f = new FormData(form);
      var body = { kind: f.get('kind'), period: f.get('period'), region: f.get('region'), format: f.get('format') };
      EH.msg(msg, 'info', t('report_generating'));
      EH.postJSON('/api/v1/reports', body).then(function () { EH.clear(msg); return load(); })
        .catch(function (e) { EH.msg(msg, 'error', e.message); });
    });
    load();
  }).catch(function () {});
})();
