//! `payops serve` as a real process on loopback, its tokens, and one way to
//! call its API: what the serve, replica and team-client tests share.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::cli::Harness;

/// The server, stopped when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_server(harness: &Harness) -> Server {
    start_server_with(harness, &[])
}

pub fn start_server_with(harness: &Harness, extra: &[&str]) -> Server {
    let server = start_server_with_addr(harness, "127.0.0.1:0", extra);
    assert!(
        server.base.starts_with("http://127.0.0.1:"),
        "{}",
        server.base
    );
    server
}

pub fn start_server_with_addr(harness: &Harness, addr: &str, extra: &[&str]) -> Server {
    spawn_server(harness, addr, extra, Stdio::null())
}

/// A server whose log (stderr) lines gather in the returned list.
pub fn start_server_logging(
    harness: &Harness,
    extra: &[&str],
) -> (Server, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let mut server = spawn_server(harness, "127.0.0.1:0", extra, Stdio::piped());
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let stderr = server.child.stderr.take().unwrap();
    let gathered = lines.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            gathered.lock().unwrap().push(line);
        }
    });
    (server, lines)
}

fn spawn_server(harness: &Harness, addr: &str, extra: &[&str], stderr: Stdio) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payops"));
    cmd.args(["serve", "--addr", addr])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    for (key, value) in harness.env() {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().unwrap();
    let mut first = String::new();
    let stdout = child.stdout.take().unwrap();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .unwrap();
    let base = first.trim().rsplit(' ').next().unwrap().to_string();
    Server { child, base }
}

pub async fn add_token(harness: &Harness, name: &str, role: &str) -> String {
    let run = harness
        .run(&["serve", "token", "add", name, "--role", role])
        .await;
    run.assert_code(0);
    // Alone on the last line of stdout.
    let token = run.stdout.trim_end().lines().last().unwrap().to_string();
    assert!(token.starts_with("payops_"), "{}", run.stdout);
    token
}

/// A token for each `(name, role)`, made in order.
pub async fn add_tokens<const N: usize>(
    harness: &Harness,
    tokens: [(&str, &str); N],
) -> [String; N] {
    let mut made = Vec::with_capacity(N);
    for (name, role) in tokens {
        made.push(add_token(harness, name, role).await);
    }
    made.try_into().expect("one token a name")
}

pub async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, value)
}

/// One server's API, called by path: `api.get("/api/v1/sessions", Some(&token))`.
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: base.to_string(),
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let url = format!("{}{path}", self.base);
        call(&self.client, method, url, token, body).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.send("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, Value) {
        self.send("POST", path, token, body).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        self.send("PUT", path, token, Some(body)).await
    }
}

/// The `kind` of a refusal's `{"error": {...}}`.
pub fn error_kind(value: &Value) -> &str {
    value["error"]["kind"].as_str().unwrap_or_default()
}

/// The `field` of a refusal, when it names one.
pub fn error_field(value: &Value) -> Option<&str> {
    value["error"]["field"].as_str()
}

/// The server's event stream as `token` sees it, once it answered 200.
pub async fn events(
    server: &Server,
    token: &str,
) -> impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + use<> {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/events", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "GET /api/v1/events");
    response.bytes_stream()
}

/// A customer consents while `client_token` watches `watched`'s event
/// stream and the simulator delivers Cashfree's webhook to `receiver`: how
/// long from the change at the simulator until the stream told of session
/// `id` AUTHENTICATED (at most 5 s), and the stream's text meanwhile.
pub async fn consent_delivered(
    harness: &Harness,
    watched: &Server,
    client_token: &str,
    receiver: &Server,
    (id, verification_id): (&str, &str),
) -> (std::time::Duration, String) {
    use futures::StreamExt;
    let mut stream = events(watched, client_token).await;
    let mut seen = String::new();
    // The snapshot first, so what follows is a change.
    while !seen.contains("event: snapshot") {
        seen.push_str(&String::from_utf8_lossy(
            &stream.next().await.unwrap().unwrap(),
        ));
    }
    seen.clear();
    let url = format!("{}/api/v1/webhooks/cashfree", receiver.base);
    harness
        .sim
        .set_cashfree_webhook_url(Some(url::Url::parse(&url).unwrap()));
    let changed = std::time::Instant::now();
    assert!(harness.sim.force_session_status(
        verification_id,
        payops::domain::SessionStatus::Authenticated
    ));
    let told = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let chunk = stream.next().await.unwrap().unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(id) && seen.contains("\"AUTHENTICATED\"") {
                return changed.elapsed();
            }
        }
    })
    .await
    .expect("the change reached the stream");
    (told, seen)
}
