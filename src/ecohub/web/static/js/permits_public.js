/* Public disclosure of discharge permits (信息公开): the list (search by number or enterprise name) and one permit's
   public items — basics, outlets, permitted concentrations, permitted tonnage, exceedances — from the public API
   only (no sign-in). Text from data is set as text (EH.el), never as HTML. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var msg = EH.$('#pd-msg');
  var detail = EH.$('#pd-detail');

  function rows(sel, items, cells) {
    var tb = EH.clear(EH.$(sel + ' tbody'));
    if (!items.length) tb.append(el('tr', null, el('td', null, t('pub_none'))));
    items.forEach(function (r) {
      tb.append(el('tr', null, cells(r).map(function (c) { return el('td', null, c == null ? '' : String(c)); })));
    });
  }
  function cat(c) { return t('pm_cat_' + c); }
  function status(s) { return t('pd_status_' + s); }
  function fail(e) { EH.msg(msg, 'error', String(e && e.message || e)); }

  function list() {
    var q = EH.$('#pd-q').value.trim();
    EH.getJSON('/api/v1/public/permits' + (q ? '?q=' + encodeURIComponent(q) : '')).then(function (items) {
      var tb = EH.clear(EH.$('#pd-list tbody'));
      if (!items.length) tb.append(el('tr', null, el('td', null, t('pub_none'))));
      items.forEach(function (p) {
        tb.append(el('tr', { 'data-permit': p.number },
          el('td', null, el('a', { href: '/disclosure/permits?number=' + encodeURIComponent(p.number) }, p.number)),
          el('td', null, p.enterprise_name + ' ' + p.enterprise), el('td', null, cat(p.category)),
          el('td', null, p.industry || ''), el('td', null, p.valid_from + ' … ' + p.valid_to),
          el('td', null, status(p.status))));
      });
      document.body.setAttribute('data-permits', String(items.length));
    }).catch(fail);
  }

  function show(number) {
    EH.$('#pd-list-card').classList.add('hidden');
    detail.classList.remove('hidden');
    EH.getJSON('/api/v1/public/permits/' + encodeURIComponent(number)).then(function (d) {
      EH.$('#pd-head').textContent = d.number + ' · ' + d.enterprise_name;
      rows('#pd-basics', [[t('pm_number'), d.number], [t('pm_enterprise'), d.enterprise_name],
        [t('pm_category'), cat(d.category)], [t('pd_industry'), d.industry], [t('pd_authority'), d.authority],
        [t('pm_validity'), d.valid_from + ' … ' + d.valid_to], [t('pd_status'), status(d.status)]],
        function (r) { return r; });
      rows('#pd-outlets', d.outlets, function (o) { return [o.outlet_code, t('pm_type_' + o.outlet_type)]; });
      rows('#pd-limits', d.limits, function (x) {
        return [x.outlet, x.parameter, x.period, x.limit_value + ' ' + x.unit,
          x.converted_o2 != null ? x.converted_o2 + ' %' : t('pd_measured'), x.standard];
      });
      rows('#pd-tonnage', d.tonnage, function (x) { return [x.parameter, x.tonnes_per_year]; });
      rows('#pd-exceed', d.exceedances, function (x) {
        return [EH.fmtTime(x.opened_at, true), x.outlet, x.parameter, x.value, x.level];
      });
      document.body.setAttribute('data-permit-shown', d.number);
    }).catch(fail);
  }

  var number = detail.getAttribute('data-number');
  if (number) show(number);
  else {
    EH.$('#pd-form').addEventListener('submit', function (ev) { ev.preventDefault(); list(); });
    list();
  }
})();
