/* Sign-in with the API's OAuth2 password flow; the tokens stay in this tab (sessionStorage). */
(function () {
  'use strict';
  var t = EH.t;
  var next = EH.params.next || '/map';
  EH.$('#login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = new URLSearchParams({ username: EH.$('#username').value, password: EH.$('#password').value });
    fetch('/api/v1/auth/token', { method: 'POST', body: body }).then(function (r) {
      if (!r.ok) return EH.problem(r);
      return r.json();
    }).then(function (tok) {
      EH.auth.set(tok);
      location.assign(next);
    }).catch(function (e) {
      EH.msg(EH.$('#login-result'), 'error', e.status === 401 ? t('login_failed') : e.message);
    });
  });
})();
