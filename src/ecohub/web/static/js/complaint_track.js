/* Follow a complaint by its tracking code: status and history, nothing personal. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var code = EH.params.code;
  var out = EH.$('#track-result');
  if (!code) return;
  EH.getJSON('/api/v1/complaints/track/' + encodeURIComponent(code)).then(function (c) {
    EH.clear(out).append(
      el('dl', { class: 'kv', id: 'track-details' },
        el('dt', null, t('track_code')), el('dd', null, el('b', null, c.tracking_code_display)),
        el('dt', null, t('status')), el('dd', null, el('span', { class: 'pill', id: 'track-status' }, t('st_' + c.status))),
        el('dt', null, t('complaint_category')), el('dd', null, t('cat_' + c.category)),
        el('dt', null, t('region')), el('dd', null, c.region_name),
        el('dt', null, t('submitted_at')), el('dd', null, EH.fmtTime(c.submitted_at, true) + ' ' + t('beijing_time'))),
      el('h3', null, t('track_history')),
      el('ul', { class: 'timeline' }, c.history.map(function (h) {
        return el('li', null, el('b', null, t('st_' + h.status)), ' ', el('span', { class: 'muted' }, EH.fmtTime(h.at, true)),
          h.note ? el('div', null, h.note) : null);
      })),
      c.result ? el('section', { id: 'track-published' }, el('h3', null, t('pub_results')), el('p', null, c.result.result),
        c.result.satisfaction ? el('p', { class: 'muted' }, t('sat_title') + '：' + t('sat_' + c.result.satisfaction)) : null)
        : null);
  }).catch(function (e) {
    EH.msg(out, 'error', e.status === 404 ? t('track_notfound') : t('error_load') + ': ' + e.message);
  });
})();
