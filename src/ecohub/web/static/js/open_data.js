/* Open data: the catalogue's datasets the visitor may download, and a builder for observation downloads. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var box = EH.$('#datasets');
  EH.getJSON('/api/v1/datasets').then(function (rows) {
    EH.clear(box);
    var open = rows.filter(function (d) { return ['full', 'open', 'shared', 'granted'].indexOf(d.access) >= 0; });
    if (!open.length) { box.append(el('p', { class: 'muted' }, t('data_none'))); return; }
    box.append(el('ul', null, open.map(function (d) {
      return el('li', { style: 'margin-bottom:10px' }, el('b', null, d.title), ' ', el('span', { class: 'muted small' }, d.code + ' · ' + d.update_frequency),
        el('div', { class: 'small' }, d.description),
        el('div', null, ['csv', 'json', 'parquet'].map(function (f) {
          return el('a', { href: '/api/v1/datasets/' + d.id + '/export?format=' + f + '&from=' + EH.bjDate(-30) + '&to=' + EH.bjDate(0),
            style: 'margin-right:10px' }, f.toUpperCase());
        })));
    })));
  }).catch(function (e) { EH.msg(box, 'error', t('error_load') + ': ' + e.message); });

  var sel = EH.$('#obs-site'), date = EH.$('#obs-date'), link = EH.$('#obs-link');
  date.value = EH.bjDate(-1);
  function update() {
    var d = date.value;
    if (!sel.value || !/^\d{4}-\d\d-\d\d$/.test(d)) return;
    var next = new Date(Date.parse(d + 'T00:00:00Z') + 86400e3).toISOString().slice(0, 10);
    link.href = '/api/v1/observations?site=' + encodeURIComponent(sel.value) + '&interval=hour&from=' + d + 'T00:00:00&to=' +
      next + 'T00:00:00&format=csv&limit=10000';
  }
  EH.getJSON('/api/v1/sites?kind=air_station&kind=water_section&limit=10000').then(function (d) {
    EH.clear(sel);
    d.results.forEach(function (s) { sel.append(el('option', { value: s.code }, s.name + ' (' + s.code + ')')); });
    update();
  });
  sel.addEventListener('change', update);
  date.addEventListener('input', update);
})();
