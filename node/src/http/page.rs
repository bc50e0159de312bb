//! The HTML status page at `/status`, for the operator (the crew's UI is at `/`).

use axum::extract::State;
use axum::response::Html;

use super::AppState;
use super::api::status;

/// # `GET /status`
/// A small public status page: node name, id, peer count (nothing sensitive, O(1)).
pub(crate) async fn status_page(State(state): State<AppState>) -> Html<String> {
    let s = status(&state);
    let name = s
        .name
        .as_deref()
        .map_or_else(|| "(unnamed node)".to_string(), escape);
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>flotilla: {name}</title></head>\n\
         <body><h1>flotilla node {name}</h1>\n<dl>\
         <dt>Node id</dt><dd><code>{id}</code></dd>\
         <dt>Peers connected</dt><dd>{peers}</dd>\
         <dt>Version</dt><dd>{version}</dd></dl>\n\
         <p>The crew's chat: <a href=\"/\">/</a>. JSON status: \
         <a href=\"/api/v1/status\">/api/v1/status</a>.</p></body></html>\n",
        id = s.node_id,
        peers = s.peers,
        version = s.version,
    ))
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            super::escape("<b>\"Ondine\" & 'co'</b>"),
            "&lt;b&gt;&quot;Ondine&quot; &amp; &#39;co&#39;&lt;/b&gt;"
        );
    }
}
