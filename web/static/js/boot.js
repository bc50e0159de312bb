// boot.js: a classic (non-module) script run before the first paint, so the page opens in
// the stored theme and language without a flash. The rest lives in js/theme.js and js/i18n.js.
(function () {
  var theme = null;
  var lang = null;
  try {
    theme = localStorage.getItem('flotilla.theme');
    lang = localStorage.getItem('flotilla.lang');
  } catch (e) {
    // storage unavailable
  }
  if (theme !== 'light' && theme !== 'dark' && theme !== 'night') {
    theme = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }
  document.documentElement.dataset.theme = theme;
  if (lang === 'fr' || lang === 'en') document.documentElement.lang = lang;
})();
