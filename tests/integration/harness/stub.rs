//! A scripted provider on 127.0.0.1:0 for the provider client tests: records
//! every request and answers what the test's responder says.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

pub const SECRET: &str = "s3cr3t-do-not-leak-82e4755d7c1cf636";

#[derive(Debug, Clone)]
pub struct Captured {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    pub fn ok(body: &str) -> Reply {
        Reply::new(200, body)
    }

    pub fn html(status: u16) -> Reply {
        Reply {
            headers: vec![("content-type", "text/html".into())],
            ..Reply::new(status, "<html><body><h1>502 Bad Gateway</h1></body></html>")
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }

    /// Answers only after `delay` (a hang, when longer than the client's timeout).
    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Responder = dyn Fn(usize, &Captured) -> Reply + Send + Sync;

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Captured>>>,
    respond: Arc<Responder>,
}

pub struct Stub {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Captured>>>,
}

impl Stub {
    /// `respond` gets the 0-based index of the request and the request.
    pub async fn start(
        respond: impl Fn(usize, &Captured) -> Reply + Send + Sync + 'static,
    ) -> Stub {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            requests: requests.clone(),
            respond: Arc::new(respond),
        };
        let app = Router::new().fallback(handle).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Stub { addr, requests }
    }

    /// Always the same answer.
    pub async fn always(reply: Reply) -> Stub {
        Stub::start(move |_, _| reply.clone()).await
    }

    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{path}", self.addr)).expect("url")
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.requests.lock().expect("lock").clone()
    }

    pub fn count(&self) -> usize {
        self.requests.lock().expect("lock").len()
    }

    /// The one request the stub has had; fails if it had none or more.
    pub fn only_request(&self) -> Captured {
        let mut requests = self.requests();
        assert_eq!(requests.len(), 1, "requests: {requests:?}");
        requests.remove(0)
    }
}

/// A client's Debug form hides the secret and shows `shown`.
pub fn assert_debug_hides_secret(client: &dyn std::fmt::Debug, shown: &str) {
    let debug = format!("{client:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(debug.contains(shown), "{shown} in {debug}");
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let captured = Captured {
        method,
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let index = {
        let mut requests = shared.requests.lock().expect("lock");
        requests.push(captured.clone());
        requests.len() - 1
    };
    let reply = (shared.respond)(index, &captured);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (
        StatusCode::from_u16(reply.status).expect("status"),
        reply.body,
    )
        .into_response();
    for (name, value) in reply.headers {
        response
            .headers_mut()
            .insert(name, value.parse().expect("header value"));
    }
    response
}

/// A loopback port with nothing listening: connections are refused.
pub async fn refused_url(path: &str) -> url::Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    url::Url::parse(&format!("http://{addr}{path}")).expect("url")
}

/// Fast policy for tests: short delays, a short timeout.
pub fn fast_policy() -> payops::providers::CallPolicy {
    payops::providers::CallPolicy {
        timeout: Duration::from_millis(500),
        connect_timeout: Duration::from_millis(300),
        max_retries: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
    }
}

/// The secret must appear in neither the Display nor the Debug form.
pub fn assert_no_secret(what: &dyn std::fmt::Debug, display: &str) {
    let debug = format!("{what:?}");
    assert!(!debug.contains(SECRET), "secret in Debug: {debug}");
    assert!(!display.contains(SECRET), "secret in Display: {display}");
}

/// `fast_policy` with a 150 ms timeout and `max_retries` retries.
pub fn short_timeout(max_retries: usize) -> payops::providers::CallPolicy {
    payops::providers::CallPolicy {
        timeout: Duration::from_millis(150),
        max_retries,
        ..fast_policy()
    }
}

/// `err` is a transport failure that surely never left (`never_sent`) or may have.
pub fn assert_transport(err: &payops::error::ProviderError, never_sent: bool) {
    assert!(
        matches!(
            err,
            payops::error::ProviderError::Transport { never_sent: n, .. } if *n == never_sent
        ),
        "expected Transport with never_sent {never_sent}: {err:?}"
    );
}

/// `err` says the provider was unavailable with HTTP `status` and `code`.
pub fn assert_unavailable(err: &payops::error::ProviderError, status: u16, code: Option<&str>) {
    assert!(
        matches!(
            err,
            payops::error::ProviderError::Unavailable { status: s, code: c, .. }
                if *s == status && c.as_deref() == code
        ),
        "expected Unavailable {status} {code:?}: {err:?}"
    );
}

/// `err` says a call with a side effect may or may not have been applied.
pub fn assert_outcome_unknown(err: &payops::error::ProviderError) {
    assert!(
        matches!(err, payops::error::ProviderError::OutcomeUnknown { .. }),
        "expected OutcomeUnknown: {err:?}"
    );
}

/// Each `(field, value)` in `expected` is what `user` holds; fields not named
/// are not checked.
pub fn assert_user_details(user: &payops::domain::UserDetails, expected: &[(&str, &str)]) {
    for &(field, want) in expected {
        let got = match field {
            "name" => &user.name,
            "dob" => &user.dob,
            "gender" => &user.gender,
            "eaadhaar" => &user.eaadhaar,
            "mobile" => &user.mobile,
            _ => panic!("no user detail called {field}"),
        };
        assert_eq!(got.as_deref(), Some(want), "user detail {field}");
    }
}
