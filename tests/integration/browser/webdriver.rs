//! A small W3C WebDriver client: the commands the browser tests use (new session, navigate,
//! find elements by CSS, click, send keys, element text/attribute/displayed, execute script,
//! screenshot, delete session), over [`super::http`]. No waiting and no retries here: that
//! is [`super::harness`]'s job.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use hyper::Method;
use serde_json::{Value, json};

use super::http::{self, HttpError};

/// The key under which WebDriver serializes an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Bound on one WebDriver command (a page load on loopback, a script, a screenshot).
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on creating a session (chromium's start).
const NEW_SESSION_TIMEOUT: Duration = Duration::from_secs(60);

/// W3C key codes for [`Session::send_keys`].
pub(crate) mod keys {
    /// Enter.
    pub(crate) const ENTER: &str = "\u{E007}";
}

/// Why a WebDriver command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WebDriverError {
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The driver answered with a W3C error (`no such element`, `javascript error`, …).
    #[error("{command}: {error}: {message}")]
    Command {
        command: String,
        error: String,
        message: String,
    },
    #[error("{command}: unexpected answer {value}")]
    Unexpected { command: String, value: String },
    #[error("screenshot is not base64: {0}")]
    Screenshot(#[from] base64::DecodeError),
}

impl WebDriverError {
    /// Whether this is the W3C `no such element` error.
    pub(crate) fn is_no_such_element(&self) -> bool {
        matches!(self, WebDriverError::Command { error, .. } if error == "no such element")
    }
}

/// A reference to an element of the current page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element(String);

impl Element {
    fn from_value(value: &Value) -> Option<Element> {
        value
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .map(|id| Element(id.to_owned()))
    }

    /// The element as a script argument.
    pub(crate) fn to_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }
}

/// One WebDriver session on a driver listening at `driver`.
#[derive(Debug)]
pub(crate) struct Session {
    driver: SocketAddr,
    id: String,
}

impl Session {
    /// Starts a browser with `capabilities` (the `alwaysMatch` object).
    pub(crate) async fn create(
        driver: SocketAddr,
        capabilities: Value,
    ) -> Result<Session, WebDriverError> {
        let body = json!({ "capabilities": { "alwaysMatch": capabilities } });
        let value = call(
            driver,
            Method::POST,
            "/session",
            Some(&body),
            NEW_SESSION_TIMEOUT,
        )
        .await?;
        let id = value
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| unexpected("new session", &value))?;
        Ok(Session {
            driver,
            id: id.to_owned(),
        })
    }

    /// Ends the session: the driver closes the browser.
    pub(crate) async fn delete(&self) -> Result<(), WebDriverError> {
        let path = format!("/session/{}", self.id);
        call(self.driver, Method::DELETE, &path, None, COMMAND_TIMEOUT).await?;
        Ok(())
    }

    /// Loads `url` (returns once the page's load event fired).
    pub(crate) async fn navigate(&self, url: &str) -> Result<(), WebDriverError> {
        self.post("url", &json!({ "url": url })).await?;
        Ok(())
    }

    /// The current page's URL.
    pub(crate) async fn current_url(&self) -> Result<String, WebDriverError> {
        let value = self.get("url").await?;
        as_string("url", value)
    }

    /// The first element matching a CSS selector, `None` if there is none.
    pub(crate) async fn find(&self, css: &str) -> Result<Option<Element>, WebDriverError> {
        let body = json!({ "using": "css selector", "value": css });
        match self.post("element", &body).await {
            Ok(value) => Element::from_value(&value)
                .map(Some)
                .ok_or_else(|| unexpected("find element", &value)),
            Err(e) if e.is_no_such_element() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every element matching a CSS selector, in document order.
    pub(crate) async fn find_all(&self, css: &str) -> Result<Vec<Element>, WebDriverError> {
        let body = json!({ "using": "css selector", "value": css });
        let value = self.post("elements", &body).await?;
        let list = value
            .as_array()
            .ok_or_else(|| unexpected("find elements", &value))?;
        list.iter()
            .map(|v| Element::from_value(v).ok_or_else(|| unexpected("find elements", v)))
            .collect()
    }

    /// Clicks an element (it must be visible and not covered).
    pub(crate) async fn click(&self, element: &Element) -> Result<(), WebDriverError> {
        self.post(&format!("element/{}/click", element.0), &json!({}))
            .await?;
        Ok(())
    }

    /// Empties a text field.
    pub(crate) async fn clear(&self, element: &Element) -> Result<(), WebDriverError> {
        self.post(&format!("element/{}/clear", element.0), &json!({}))
            .await?;
        Ok(())
    }

    /// Types `text` into an element ([`keys`] for special keys).
    pub(crate) async fn send_keys(
        &self,
        element: &Element,
        text: &str,
    ) -> Result<(), WebDriverError> {
        self.post(
            &format!("element/{}/value", element.0),
            &json!({ "text": text }),
        )
        .await?;
        Ok(())
    }

    /// An element's rendered text.
    pub(crate) async fn text(&self, element: &Element) -> Result<String, WebDriverError> {
        let value = self.get(&format!("element/{}/text", element.0)).await?;
        as_string("element text", value)
    }

    /// An element's attribute, `None` when absent.
    pub(crate) async fn attribute(
        &self,
        element: &Element,
        name: &str,
    ) -> Result<Option<String>, WebDriverError> {
        let value = self
            .get(&format!("element/{}/attribute/{name}", element.0))
            .await?;
        match value {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => Err(unexpected("element attribute", &other)),
        }
    }

    /// Whether an element is displayed.
    pub(crate) async fn displayed(&self, element: &Element) -> Result<bool, WebDriverError> {
        let value = self
            .get(&format!("element/{}/displayed", element.0))
            .await?;
        value
            .as_bool()
            .ok_or_else(|| unexpected("element displayed", &value))
    }

    /// Runs `script` (a function body: `return …;`) with `args`; a returned promise is
    /// awaited. Element references in the result stay JSON (see [`element_of`]).
    pub(crate) async fn execute(
        &self,
        script: &str,
        args: &[Value],
    ) -> Result<Value, WebDriverError> {
        self.post("execute/sync", &json!({ "script": script, "args": args }))
            .await
    }

    /// A PNG of the viewport.
    pub(crate) async fn screenshot(&self) -> Result<Vec<u8>, WebDriverError> {
        let value = self.get("screenshot").await?;
        let b64 = as_string("screenshot", value)?;
        Ok(base64::engine::general_purpose::STANDARD.decode(b64)?)
    }

    async fn get(&self, command: &str) -> Result<Value, WebDriverError> {
        let path = format!("/session/{}/{command}", self.id);
        call(self.driver, Method::GET, &path, None, COMMAND_TIMEOUT).await
    }

    async fn post(&self, command: &str, body: &Value) -> Result<Value, WebDriverError> {
        let path = format!("/session/{}/{command}", self.id);
        call(
            self.driver,
            Method::POST,
            &path,
            Some(body),
            COMMAND_TIMEOUT,
        )
        .await
    }
}

/// The element a script returned, if it returned one.
pub(crate) fn element_of(value: &Value) -> Option<Element> {
    Element::from_value(value)
}

/// Sends one command and unwraps the W3C `{"value": …}` envelope.
async fn call(
    driver: SocketAddr,
    method: Method,
    path: &str,
    body: Option<&Value>,
    timeout: Duration,
) -> Result<Value, WebDriverError> {
    let response = http::request(driver, method.clone(), path, body, timeout).await?;
    let mut envelope = response.body;
    let value = envelope
        .get_mut("value")
        .map(Value::take)
        .unwrap_or(Value::Null);
    if response.status >= 400 {
        return Err(command_error(&format!("{method} {path}"), &value));
    }
    Ok(value)
}

fn command_error(command: &str, value: &Value) -> WebDriverError {
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("(none)")
            .to_owned()
    };
    WebDriverError::Command {
        command: command.to_owned(),
        error: field("error"),
        message: field("message"),
    }
}

fn as_string(command: &str, value: Value) -> Result<String, WebDriverError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(unexpected(command, &other)),
    }
}

fn unexpected(command: &str, value: &Value) -> WebDriverError {
    let mut shown = value.to_string();
    shown.truncate(300);
    WebDriverError::Unexpected {
        command: command.to_owned(),
        value: shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_references_round_trip_through_json() {
        let element = Element("abc".into());
        assert_eq!(Element::from_value(&element.to_arg()), Some(element));
        assert_eq!(Element::from_value(&json!({"other": "abc"})), None);
    }

    #[test]
    fn command_errors_keep_the_w3c_code() {
        let value = json!({"error": "no such element", "message": "gone"});
        let e = command_error("POST /x", &value);
        assert!(e.is_no_such_element());
        assert_eq!(e.to_string(), "POST /x: no such element: gone");
        assert!(!command_error("POST /x", &Value::Null).is_no_such_element());
    }
}
