/* Starts Swagger UI (/docs) or ReDoc (/redoc) from the vendored bundles; the page's CSP allows no inline script,
   so the configuration comes from a JSON block. Nothing is fetched from outside (no validator badge, no fonts). */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('docs-config').textContent);
  if (cfg.kind === 'swagger') {
    window.ui = SwaggerUIBundle({
      url: cfg.url, dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null, layout: 'BaseLayout',
      presets: [SwaggerUIBundle.presets.apis], showExtensions: true, persistAuthorization: false
    });
  } else {
    // search runs in a blob: web worker, which the CSP forbids: off
    Redoc.init(cfg.url, { disableSearch: true, expandResponses: '200,201', hideHostname: true },
      document.getElementById('redoc'));
  }
})();
