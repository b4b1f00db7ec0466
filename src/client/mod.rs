//! Team mode's client side: talking to a `payops serve` with an operator's
//! token. The CLI sends its commands through [`ServerClient`]; the dashboard
//! runs [`engine::spawn`], which speaks the same commands and updates as the
//! local engine, so the terminal UI is the same in both modes.

pub mod engine;
mod stream;

use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use crate::auth::Role;

/// How long one API call may take (a create or notify waits for the provider).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a call to the server did not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServerError {
    /// No HTTP answer: refused, reset, timed out, TLS.
    #[error("cannot reach the payops server at {server}: {message}")]
    Unreachable {
        server: String,
        message: String,
        /// The request may have left (a timeout or reset after connecting).
        sent: bool,
    },
    /// The server answered with an error status and its `{"error": …}` body.
    #[error("{}", match field { Some(field) => format!("{field}: {message}"), None => message.clone() })]
    Refused {
        status: u16,
        kind: String,
        message: String,
        field: Option<String>,
    },
}

impl ServerError {
    /// The server answered, but not in a form this payops reads.
    pub(crate) fn unreadable(message: String) -> ServerError {
        ServerError::Refused {
            status: 200,
            kind: "server".into(),
            message,
            field: None,
        }
    }

    /// The request may have reached the server and been acted on: no
    /// answer after sending, or the server failed while handling it.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ServerError::Unreachable { sent, .. } => *sent,
            ServerError::Refused { status, .. } => *status >= 500,
        }
    }
}

/// Who the token belongs to, as the server says (`GET /api/v1/whoami`).
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    pub name: String,
    pub role: Role,
    /// When the token stops working; `None`: never.
    pub expires_at: Option<jiff::Timestamp>,
    /// What the server fills a create in with (an older server sends none).
    pub defaults: Option<crate::config::SessionDefaults>,
}

/// A server (or its replicas, tried in turn) and the token to reach it
/// with. Cheap to clone; clones share which replica is in use.
#[derive(Clone)]
pub struct ServerClient {
    http: reqwest::Client,
    bases: std::sync::Arc<Vec<Url>>,
    /// Which of `bases` is in use: the next is tried when it does not answer.
    current: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    token: SecretString,
    /// When the token stops working, as the server's last answer said.
    token_expires: std::sync::Arc<std::sync::Mutex<Option<jiff::Timestamp>>>,
}

/// Within this of its expiry, a token's operator is warned.
pub const EXPIRY_WARNING: jiff::SignedDuration = jiff::SignedDuration::from_hours(7 * 24);

/// "your token expires …" when `expires_at` is within [`EXPIRY_WARNING`] of `now`.
pub fn expiry_warning(expires_at: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Option<String> {
    let at = expires_at?;
    let left = now.duration_until(at);
    if left > EXPIRY_WARNING || left.is_negative() {
        return None;
    }
    let hours = left.as_hours();
    let when = if hours >= 48 {
        format!("in {} days", hours / 24)
    } else if hours >= 1 {
        format!("in {hours} h")
    } else {
        format!("in {} min", left.as_mins().max(1))
    };
    Some(format!(
        "your token expires {when} ({}); ask an admin to rotate it",
        crate::domain::local_time(at)
    ))
}

impl ServerClient {
    /// `token` must not be empty (the caller says where it should come from).
    pub fn new(base: Url, token: SecretString) -> Result<ServerClient, ServerError> {
        ServerClient::trusting(vec![base], token, None)
    }

    /// [`ServerClient::new`], trusting the certificate authorities in
    /// `ca_pem` besides the public ones (`[server] ca_file`).
    pub fn trusting(
        bases: Vec<Url>,
        token: SecretString,
        ca_pem: Option<&[u8]>,
    ) -> Result<ServerClient, ServerError> {
        let Some(base) = bases.first().cloned() else {
            return Err(ServerError::Refused {
                status: 0,
                kind: "config".into(),
                message: "no server URL".into(),
                field: Some("server.url".into()),
            });
        };
        let mut builder = reqwest::Client::builder().connect_timeout(Duration::from_secs(5));
        if let Some(pem) = ca_pem {
            let authorities = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                ServerError::Unreachable {
                    server: shown(&base),
                    message: format!("server.ca_file: {e}"),
                    sent: false,
                }
            })?;
            for authority in authorities {
                builder = builder.add_root_certificate(authority);
            }
        }
        let http = builder.build().map_err(|e| ServerError::Unreachable {
            server: shown(&base),
            message: format!("cannot make an HTTP client: {e}"),
            sent: false,
        })?;
        Ok(ServerClient {
            http,
            bases: std::sync::Arc::new(bases),
            current: std::sync::Arc::default(),
            token,
            token_expires: std::sync::Arc::default(),
        })
    }

    /// The replica in use.
    fn base(&self) -> &Url {
        let at = self.current.load(std::sync::atomic::Ordering::Relaxed);
        &self.bases[at % self.bases.len()]
    }

    /// Moves on from the replica `failed` (as [`Self::replica`] said) to
    /// the next; false when there is only one. Callers failing at once on
    /// one replica move on once, not once each.
    pub(crate) fn next_replica(&self, failed: usize) -> bool {
        if self.bases.len() < 2 {
            return false;
        }
        let _ = self.current.compare_exchange(
            failed,
            failed.wrapping_add(1),
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
        );
        tracing::info!(server = %self.shown(), "trying the next server");
        true
    }

    /// Which replica is in use, to name when moving on from it.
    pub(crate) fn replica(&self) -> usize {
        self.current.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The server as the header shows it: host and port, never credentials.
    pub fn shown(&self) -> String {
        shown(self.base())
    }

    /// `/api/v1/<segments>`, each segment escaped so an id cannot reach
    /// another route.
    fn url(&self, segments: &[&str]) -> Result<Url, ServerError> {
        let mut url = self.base().clone();
        url.path_segments_mut()
            .map_err(|()| ServerError::Refused {
                status: 0,
                kind: "config".into(),
                message: "cannot carry a path".into(),
                field: Some("server.url".into()),
            })?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(segments);
        Ok(url)
    }

    fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(self.token.expose_secret().trim())
    }

    /// A call to the API; when the replica in use cannot be connected to
    /// (so nothing was sent), the next one is tried, each once.
    pub async fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Value, ServerError> {
        let mut others = self.bases.len() - 1;
        loop {
            let tried = self.replica();
            match self
                .call_once(method.clone(), segments, query, body.as_ref())
                .await
            {
                Err(ServerError::Unreachable { sent: false, .. })
                    if others > 0 && self.next_replica(tried) =>
                {
                    others -= 1;
                }
                answer => return answer,
            }
        }
    }

    /// A change: `POST /api/v1/<segments>`, with a JSON body or none.
    pub async fn post(&self, segments: &[&str], body: Option<Value>) -> Result<Value, ServerError> {
        self.call(Method::POST, segments, &[], body).await
    }

    async fn call_once(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ServerError> {
        let mut url = self.url(segments)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self.request(method, url).timeout(CALL_TIMEOUT);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        self.note_expiry(response.headers());
        let status = response.status();
        let text = response.text().await.map_err(|e| self.unreachable(&e))?;
        if status.is_success() {
            return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
        }
        Err(refusal(status, &text))
    }

    fn note_expiry(&self, headers: &reqwest::header::HeaderMap) {
        let at = headers
            .get("x-payops-token-expires")
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.parse().ok());
        if at.is_some() {
            *self.token_expires.lock().unwrap_or_else(|p| p.into_inner()) = at;
        }
    }

    /// When the token stops working, as the server last said (none: never,
    /// or not yet asked).
    pub fn token_expires_at(&self) -> Option<jiff::Timestamp> {
        *self.token_expires.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Who this token is, and its role.
    pub async fn whoami(&self) -> Result<Operator, ServerError> {
        let value = self.call(Method::GET, &["whoami"], &[], None).await?;
        let name = value["name"].as_str().unwrap_or_default().to_string();
        let role = value["role"]
            .as_str()
            .and_then(|role| role.parse::<Role>().ok())
            .ok_or_else(|| {
                ServerError::unreadable(format!(
                    "the server's whoami answer has no role I know: {value}"
                ))
            })?;
        Ok(Operator {
            name,
            role,
            expires_at: value["expires_at"].as_str().and_then(|t| t.parse().ok()),
            defaults: defaults_of(&value["defaults"]),
        })
    }

    fn unreachable(&self, error: &reqwest::Error) -> ServerError {
        // Not reqwest's own text: it quotes the URL, which may carry
        // credentials. The kind and the chain of causes say why.
        let mut message = if error.is_timeout() {
            "no answer in time".to_string()
        } else if error.is_connect() {
            "could not connect".to_string()
        } else {
            "the request failed".to_string()
        };
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        if message.contains("UnknownIssuer") {
            message.push_str(
                "; if an internal certificate authority signed the server's certificate, \
                 set [server] ca_file (or PAYOPS_SERVER_CA_FILE) to its PEM file",
            );
        }
        ServerError::Unreachable {
            server: self.shown(),
            message,
            sent: !error.is_connect(),
        }
    }
}

/// The server's create defaults, read leniently: a part it does not say (or
/// this client cannot read) stays as payops' own default.
fn defaults_of(value: &Value) -> Option<crate::config::SessionDefaults> {
    use crate::domain::{DocumentType, Provider, UserFlow};
    let object = value.as_object()?;
    let mut defaults = crate::config::SessionDefaults {
        provider: object
            .get("provider")
            .and_then(Value::as_str)
            .and_then(|p| p.parse::<Provider>().ok()),
        redirect_url: object
            .get("redirect_url")
            .and_then(Value::as_str)
            .and_then(|u| Url::parse(u).ok()),
        ..crate::config::SessionDefaults::default()
    };
    if let Some(flow) = object
        .get("flow")
        .and_then(Value::as_str)
        .and_then(UserFlow::parse)
    {
        defaults.flow = flow;
    }
    if let Some(documents) = object.get("documents").and_then(Value::as_array) {
        defaults.documents = documents
            .iter()
            .filter_map(|d| d.as_str().and_then(DocumentType::parse))
            .collect();
    }
    Some(defaults)
}

/// The error an error status carries, or the status alone.
fn refusal(status: reqwest::StatusCode, body: &str) -> ServerError {
    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    ServerError::Refused {
        status: status.as_u16(),
        kind: value["error"]["kind"]
            .as_str()
            .unwrap_or("server_error")
            .to_string(),
        message: value["error"]["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("the server answered HTTP {status}")),
        field: value["error"]["field"].as_str().map(str::to_string),
    }
}

fn shown(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => url.scheme().to_string(),
    }
}
