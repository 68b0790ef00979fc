/* Complaint (12369-style) form: location on the map, category, description, photo (downscaled and re-encoded in
   the browser, which also drops its EXIF data), phone. Nearby open complaints of the same category are shown
   before sending. */
(function () {
  'use strict';
  var t = EH.t, el = EH.el;
  var base = EH.baseMap('map');
  var marker = null;
  EH.complaintMap = base.map;  // for the browser tests
  var form = EH.$('#complaint-form');

  function setInvalid(field) {
    form.querySelectorAll('.form-row').forEach(function (r) { r.classList.toggle('invalid', r.dataset.field === field); });
  }

  function checkNearby() {
    var lon = EH.$('#lon').value, lat = EH.$('#lat').value, box = EH.$('#duplicates');
    if (!lon) return;
    EH.getJSON('/api/v1/complaints/nearby?lon=' + lon + '&lat=' + lat + '&category=' + EH.$('#category').value)
      .then(function (d) {
        EH.clear(box);
        if (!d.results.length) return;
        var ul = el('ul', null, d.results.map(function (r) {
          return el('li', null, t('cat_' + r.category) + ' · ' + t('st_' + r.status) + ' · ' + EH.fmtTime(r.submitted_at, true) +
            ' · ' + Math.round(r.distance_m) + ' m');
        }));
        box.append(el('div', { class: 'msg info', id: 'dup-box' }, el('b', null, t('complaint_duplicates')), ul,
          el('div', { class: 'small' }, t('complaint_duplicates_hint'))));
      }).catch(function () {});
  }

  base.map.on('click', function (ev) {
    var ll = ev.latlng;
    var lon = ll.lng.toFixed(6), lat = ll.lat.toFixed(6);
    EH.$('#lon').value = lon; EH.$('#lat').value = lat;
    var text = lon + ', ' + lat + ' (WGS-84)';
    EH.$('#loc-value').textContent = text;
    EH.$('#loc-text').textContent = text;
    if (marker) marker.setLatLng(ll);
    else marker = L.circleMarker(ll, { renderer: base.renderer, radius: 9, color: '#b00020', weight: 3, fillColor: '#ff5252',
      fillOpacity: 0.9 }).addTo(base.map);
    checkNearby();
  });
  EH.$('#category').addEventListener('change', checkNearby);

  function shrink(file) {  // → a JPEG Blob at most 1600 px on its long side (or the file itself if it cannot be read)
    return new Promise(function (resolve) {
      if (!file || !/^image\//.test(file.type)) return resolve(file);
      var img = new Image(), url = URL.createObjectURL(file);
      img.onload = function () {
        var s = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
        var c = document.createElement('canvas');
        c.width = Math.round(img.naturalWidth * s); c.height = Math.round(img.naturalHeight * s);
        c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(url);
        c.toBlob(function (b) { resolve(b || file); }, 'image/jpeg', 0.85);
      };
      img.onerror = function () { URL.revokeObjectURL(url); resolve(file); };
      img.src = url;
    });
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var out = EH.$('#result');
    if (!EH.$('#lon').value) { setInvalid('location'); EH.msg(out, 'error', t('complaint_location_none')); return; }
    var btn = EH.$('#submit');
    btn.disabled = true;
    var file = EH.$('#photo').files[0];
    shrink(file).then(function (photo) {
      var fd = new FormData();
      ['category', 'description', 'lon', 'lat', 'address', 'phone'].forEach(function (k) { fd.append(k, form.elements[k].value); });
      if (photo) fd.append('photo', photo, 'photo.jpg');
      return EH.api('/api/v1/complaints', { method: 'POST', body: fd });
    }).then(function (r) {
      return r.ok ? r.json() : EH.problem(r);
    }).then(function (d) {
      setInvalid(null);
      form.querySelectorAll('input, textarea, select, button').forEach(function (x) { x.disabled = true; });
      EH.clear(out).append(el('div', { class: 'msg ok' }, el('div', null, t('complaint_done')),
        el('div', { class: 'code-box', id: 'tracking-code' }, d.tracking_code_display),
        el('div', null, t('region') + ': ' + d.region_name),
        el('p', null, el('a', { href: '/complaints/' + d.tracking_code, id: 'follow-link' }, t('complaint_follow') + ' →'))));
    }).catch(function (e) {
      btn.disabled = false;
      var f = e.problem && e.problem.errors && e.problem.errors[0] && e.problem.errors[0].field;
      var row = f && form.querySelector('.form-row[data-field="' + (f === 'lon' || f === 'lat' ? 'location' : f) + '"] label');
      setInvalid(f === 'lon' || f === 'lat' ? 'location' : f);
      EH.msg(out, 'error', (row ? row.textContent + ' — ' : '') + e.message);
    });
  });
})();
