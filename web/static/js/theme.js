// theme.js: light, dark and the red night mode (for watch keeping), as `data-theme` on
// <html> driving the CSS custom properties of app.css; kept in localStorage.

export const THEMES = ['light', 'dark', 'night'];
export const THEME_STORAGE_KEY = 'flotilla.theme';

const THEME_COLORS = { light: '#1c2b3a', dark: '#10161d', night: '#000000' };

/** The stored theme when valid, else dark or light from the system preference. */
export function initialTheme(stored, prefersDark) {
  if (THEMES.includes(stored)) return stored;
  return prefersDark ? 'dark' : 'light';
}

/** The theme in use. */
export function currentTheme() {
  const theme = document.documentElement.dataset.theme;
  return THEMES.includes(theme) ? theme : 'light';
}

/** Apply `theme` and remember it. */
export function applyTheme(theme) {
  const chosen = THEMES.includes(theme) ? theme : 'light';
  document.documentElement.dataset.theme = chosen;
  const meta = document.querySelector('meta[name="theme-color"]');
  if (meta) meta.setAttribute('content', THEME_COLORS[chosen]);
  try {
    localStorage.setItem(THEME_STORAGE_KEY, chosen);
  } catch {
    // storage unavailable: the choice lasts for this page only
  }
}
