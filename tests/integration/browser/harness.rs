//! [`Browser`]: a headless chromium driven through its own chromedriver, with the waits and
//! screenshots the tests need. Every wait is bounded; a failed wait's error names what was
//! awaited, the page's URL and a screenshot of the page at that moment.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::driver::{Chromedriver, DriverError};
use super::webdriver::{Element, Session, WebDriverError, element_of, keys};

/// The browser Debian's `chromium` package installs (a wrapper script around the binary).
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
/// How often waits poll the page.
const POLL: Duration = Duration::from_millis(25);
/// Headless chromium's flags: no GPU, sandbox, network chatter or first-run UI.
const CHROMIUM_ARGS: [&str; 11] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    "--disable-crash-reporter",
];

/// Which language the browser prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// Chromium's default (English).
    Default,
    /// French: `--lang=fr-FR`, `intl.accept_languages` and `LANGUAGE=fr_FR`.
    French,
}

/// Why a browser step failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BrowserError {
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error(
        "{CHROMIUM} is missing: install Debian's chromium and chromium-driver (scripts/test.sh does)"
    )]
    Missing,
    #[error("browser profile or screenshot: {0}")]
    Io(#[from] std::io::Error),
    #[error("{source} ({evidence})")]
    WebDriver {
        source: Box<WebDriverError>,
        evidence: Box<Evidence>,
    },
    #[error("timed out after {timeout:?} waiting for {what} ({evidence})")]
    Timeout {
        what: String,
        timeout: Duration,
        evidence: Box<Evidence>,
    },
    #[error("bad screenshot name {0:?}: use letters, digits, '-' and '_'")]
    BadName(String),
}

/// Where a browser step failed: which browser, on which page, and a screenshot of it.
#[derive(Debug)]
pub(crate) struct Evidence {
    browser: String,
    url: String,
    screenshot: String,
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Evidence {
            browser,
            url,
            screenshot,
        } = self;
        write!(f, "browser {browser}, page {url}, screenshot {screenshot}")
    }
}

impl BrowserError {
    fn webdriver(source: WebDriverError, browser: &str, url: &str, screenshot: String) -> Self {
        BrowserError::WebDriver {
            source: Box::new(source),
            evidence: Box::new(Evidence {
                browser: browser.to_owned(),
                url: url.to_owned(),
                screenshot,
            }),
        }
    }
}

/// A headless chromium with its own profile and chromedriver; both die on drop.
#[derive(Debug)]
pub(crate) struct Browser {
    name: String,
    session: Session,
    failures: AtomicUsize,
    /// Dropped before the profile: the processes go before their files.
    driver: Chromedriver,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless chromium preferring `lang`. `name` tags
    /// screenshots and errors.
    pub(crate) async fn launch(name: &str, lang: Lang) -> Result<Browser, BrowserError> {
        if !Path::new(CHROMIUM).exists() {
            return Err(BrowserError::Missing);
        }
        let profile = tempfile::Builder::new()
            .prefix("flotilla-browser-")
            .tempdir()?;
        let home = profile.path().join("home");
        std::fs::create_dir_all(&home)?;
        // HOME: chromium's crash database and caches land in the temp profile.
        let french: &Path = Path::new("fr_FR");
        let mut env = vec![("HOME", home.as_path())];
        if lang == Lang::French {
            env.push(("LANGUAGE", french));
        }
        let driver = Chromedriver::start(&env, &profile.path().join("chromedriver.log")).await?;
        let capabilities = capabilities(&profile.path().join("chromium"), lang);
        let session = Session::create(driver.addr(), capabilities)
            .await
            .map_err(|e| BrowserError::webdriver(e, name, "(none: no session)", "(none)".into()))?;
        Ok(Browser {
            name: name.to_owned(),
            session,
            failures: AtomicUsize::new(0),
            driver,
            profile,
        })
    }

    /// The temp dir holding this browser's profile (its path is in every chromium command
    /// line, which lets a test check that no process outlives the browser).
    pub(crate) fn profile_dir(&self) -> &Path {
        self.profile.path()
    }

    /// chromedriver's process id.
    pub(crate) fn driver_pid(&self) -> u32 {
        self.driver.pid()
    }

    /// Ends the session (chromium exits cleanly) then drops everything; dropping without
    /// `close` kills the processes instead.
    pub(crate) async fn close(self) -> Result<(), BrowserError> {
        let ended = self.session.delete().await;
        ended.map_err(|e| BrowserError::webdriver(e, &self.name, "(closing)", "(none)".into()))
    }

    /// Loads `url` and waits for its load event.
    pub(crate) async fn goto(&self, url: &str) -> Result<(), BrowserError> {
        let loaded = self.session.navigate(url).await;
        self.check(loaded).await
    }

    /// The current URL.
    pub(crate) async fn url(&self) -> Result<String, BrowserError> {
        let url = self.session.current_url().await;
        self.check(url).await
    }

    /// Runs `script` (a function body: `return …;`; `arguments[i]` are `args`); a returned
    /// promise is awaited.
    pub(crate) async fn eval_with(
        &self,
        script: &str,
        args: &[Value],
    ) -> Result<Value, BrowserError> {
        let value = self.session.execute(script, args).await;
        self.check(value).await
    }

    /// [`Self::eval_with`] without arguments.
    pub(crate) async fn eval(&self, script: &str) -> Result<Value, BrowserError> {
        self.eval_with(script, &[]).await
    }

    /// The first element matching `css`, waiting up to `timeout` for one to exist.
    pub(crate) async fn wait_for_css(
        &self,
        css: &str,
        timeout: Duration,
    ) -> Result<Element, BrowserError> {
        let what = format!("an element matching `{css}`");
        self.wait(&what, timeout, || async { self.session.find(css).await })
            .await
    }

    /// The first element matching `css` whose rendered text contains `text`, waiting up to
    /// `timeout`.
    pub(crate) async fn wait_for_text(
        &self,
        css: &str,
        text: &str,
        timeout: Duration,
    ) -> Result<Element, BrowserError> {
        let what = format!("`{css}` to show {text:?}");
        let script = "return [...document.querySelectorAll(arguments[0])]\
                      .find(e => (e.innerText ?? e.textContent).includes(arguments[1])) ?? null;";
        let args = [json!(css), json!(text)];
        self.wait(&what, timeout, || async {
            let found = self.session.execute(script, &args).await?;
            Ok(element_of(&found))
        })
        .await
    }

    /// Waits up to `timeout` until no element matches `css`.
    pub(crate) async fn wait_for_gone(
        &self,
        css: &str,
        timeout: Duration,
    ) -> Result<(), BrowserError> {
        let what = format!("no element matching `{css}`");
        self.wait(&what, timeout, || async {
            Ok(self.session.find(css).await?.is_none().then_some(()))
        })
        .await
    }

    /// Waits up to `timeout` until `script` returns something other than `null`, `false`
    /// or `undefined`, and returns it.
    pub(crate) async fn wait_for_js(
        &self,
        what: &str,
        script: &str,
        timeout: Duration,
    ) -> Result<Value, BrowserError> {
        self.wait(what, timeout, || async {
            let value = self.session.execute(script, &[]).await?;
            Ok((!matches!(value, Value::Null | Value::Bool(false))).then_some(value))
        })
        .await
    }

    /// Clicks the first element matching `css` like a user (it must be visible), waiting up
    /// to `timeout` for it.
    pub(crate) async fn click(&self, css: &str, timeout: Duration) -> Result<(), BrowserError> {
        let element = self.wait_for_css(css, timeout).await?;
        let clicked = self.session.click(&element).await;
        self.check(clicked).await
    }

    /// Clicks the first element matching `css` from a script, even if it is only shown on
    /// hover (post actions), waiting up to `timeout` for it.
    pub(crate) async fn script_click(
        &self,
        css: &str,
        timeout: Duration,
    ) -> Result<(), BrowserError> {
        let element = self.wait_for_css(css, timeout).await?;
        self.eval_with("arguments[0].click();", &[element.to_arg()])
            .await
            .map(drop)
    }

    /// Types `text` into the first element matching `css` (waiting up to `timeout` for it),
    /// after emptying it if `replace`.
    pub(crate) async fn type_into(
        &self,
        css: &str,
        text: &str,
        replace: bool,
        timeout: Duration,
    ) -> Result<(), BrowserError> {
        let element = self.wait_for_css(css, timeout).await?;
        if replace {
            let cleared = self.session.clear(&element).await;
            self.check(cleared).await?;
        }
        let typed = self.session.send_keys(&element, text).await;
        self.check(typed).await
    }

    /// Types `text` then Enter into the first element matching `css`.
    pub(crate) async fn submit_text(
        &self,
        css: &str,
        text: &str,
        timeout: Duration,
    ) -> Result<(), BrowserError> {
        self.type_into(css, &format!("{text}{}", keys::ENTER), false, timeout)
            .await
    }

    /// An element's rendered text.
    pub(crate) async fn text(&self, element: &Element) -> Result<String, BrowserError> {
        let text = self.session.text(element).await;
        self.check(text).await
    }

    /// An element's attribute (`None` when absent).
    pub(crate) async fn attribute(
        &self,
        element: &Element,
        name: &str,
    ) -> Result<Option<String>, BrowserError> {
        let value = self.session.attribute(element, name).await;
        self.check(value).await
    }

    /// Every element matching `css` now (no waiting).
    pub(crate) async fn find_all(&self, css: &str) -> Result<Vec<Element>, BrowserError> {
        let found = self.session.find_all(css).await;
        self.check(found).await
    }

    /// Whether an element is displayed.
    pub(crate) async fn displayed(&self, element: &Element) -> Result<bool, BrowserError> {
        let shown = self.session.displayed(element).await;
        self.check(shown).await
    }

    /// Saves a PNG of the viewport as `<target dir>/screenshots/<name>.png`.
    pub(crate) async fn screenshot(&self, name: &str) -> Result<PathBuf, BrowserError> {
        let png = self.session.screenshot().await;
        let png = self.check(png).await?;
        save_screenshot(name, &png)
    }

    /// Polls `probe` until it yields something or `timeout` passes.
    async fn wait<T, F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: F,
    ) -> Result<T, BrowserError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, WebDriverError>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let found = probe().await;
            if let Some(value) = self.check(found).await? {
                return Ok(value);
            }
            if Instant::now() >= deadline {
                let (url, screenshot) = self.evidence().await;
                return Err(BrowserError::Timeout {
                    what: what.to_owned(),
                    timeout,
                    evidence: Box::new(Evidence {
                        browser: self.name.clone(),
                        url,
                        screenshot,
                    }),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Passes a result through, adding the page's URL and a screenshot to an error.
    async fn check<T>(&self, result: Result<T, WebDriverError>) -> Result<T, BrowserError> {
        match result {
            Ok(value) => Ok(value),
            Err(source) => {
                let (url, screenshot) = self.evidence().await;
                Err(BrowserError::webdriver(
                    source, &self.name, &url, screenshot,
                ))
            }
        }
    }

    /// The current URL and a failure screenshot's path, best effort (for error messages).
    async fn evidence(&self) -> (String, String) {
        let url = self
            .session
            .current_url()
            .await
            .unwrap_or_else(|e| format!("(unknown: {e})"));
        let n = self.failures.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}-failure-{n}", self.name);
        let saved = match self.session.screenshot().await {
            Ok(png) => save_screenshot(&name, &png).map(|p| p.display().to_string()),
            Err(e) => Ok(format!("(none: {e})")),
        };
        (url, saved.unwrap_or_else(|e| format!("(not saved: {e})")))
    }
}

/// The `alwaysMatch` capabilities for a headless chromium using `profile`.
fn capabilities(profile: &Path, lang: Lang) -> Value {
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut options = json!({ "binary": CHROMIUM, "args": args });
    if lang == Lang::French {
        if let Some(args) = options["args"].as_array_mut() {
            args.push(json!("--lang=fr-FR"));
        }
        options["prefs"] = json!({ "intl.accept_languages": "fr-FR,fr" });
    }
    json!({ "browserName": "chrome", "goog:chromeOptions": options })
}

/// Writes `png` to `<target dir>/screenshots/<name>.png`.
fn save_screenshot(name: &str, png: &[u8]) -> Result<PathBuf, BrowserError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(BrowserError::BadName(name.to_owned()));
    }
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png)?;
    Ok(path)
}

/// `<target dir>/screenshots`: the target dir is `CARGO_TARGET_DIR` (relative to the
/// workspace) if set, else found from this test binary's path (`<target>/<profile>/deps/`).
pub(crate) fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let from_env = std::env::var_os("CARGO_TARGET_DIR").map(|d| workspace.join(d));
    let from_exe = || {
        let exe = std::env::current_exe().ok()?;
        let deps = exe.ancestors().find(|a| a.ends_with("deps"))?;
        Some(deps.parent()?.parent()?.to_path_buf())
    };
    from_env
        .or_else(from_exe)
        .unwrap_or_else(|| workspace.join("target"))
        .join("screenshots")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screenshot_names_cannot_escape_the_directory() {
        for bad in ["", "../x", "a/b", "a b", "é"] {
            assert!(
                matches!(save_screenshot(bad, b""), Err(BrowserError::BadName(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn french_capabilities_ask_for_french() {
        let caps = capabilities(Path::new("/p"), Lang::French);
        let args = caps["goog:chromeOptions"]["args"].to_string();
        assert!(args.contains("--lang=fr-FR") && args.contains("--user-data-dir=/p"));
        assert_eq!(
            caps["goog:chromeOptions"]["prefs"]["intl.accept_languages"],
            "fr-FR,fr"
        );
        let default = capabilities(Path::new("/p"), Lang::Default);
        assert!(!default.to_string().contains("fr-FR"));
    }
}
