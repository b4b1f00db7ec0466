//! Configuration: a TOML file (`--config`, `PAYOPS_CONFIG`, or the platform
//! config dir's `payops/config.toml`), every key overridable by
//! `PAYOPS_<SECTION>_<KEY>`. A provider with no section is absent, not an error.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use directories::ProjectDirs;
use ratatui::style::Color;
use rust_decimal::Decimal;
use secrecy::SecretString;
use url::Url;

use crate::domain::{DocumentType, Provider, UserFlow};
use crate::error::ValidationError;
use crate::providers::cashfree::{CashfreeConfig, WebhookConfig};
use crate::providers::instantpay::InstantPayConfig;
use crate::providers::signature::SigningKey;
use crate::validate;

mod sections;
mod template;

pub use template::{template, write_template};

/// The process environment, captured once so loading is testable.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars().collect(),
        }
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The same variables with `key` set to `value`.
    pub fn with(mut self, key: &str, value: &str) -> Env {
        self.vars.insert(key.to_string(), value.to_string());
        self
    }

    /// A set, non-empty variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Names only: the values include `PAYOPS_*_CLIENT_SECRET`.
impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PollingConfig {
    /// How often a pending session is polled (default 5 s).
    pub session_interval: Duration,
    /// How often the balance refreshes by itself (default 300 s, minimum 30 s).
    pub balance_interval: Duration,
    /// Per-provider request budget (default 60/min, below Cashfree's 100/min tier).
    pub requests_per_minute: u32,
    /// Polls in flight at once (default 4).
    pub max_concurrent_polls: usize,
    /// Timeout of one HTTP call (default 15 s).
    pub request_timeout: Duration,
}

impl Default for PollingConfig {
    fn default() -> Self {
        PollingConfig {
            session_interval: Duration::from_secs(5),
            balance_interval: Duration::from_secs(300),
            requests_per_minute: 60,
            max_concurrent_polls: 4,
            request_timeout: Duration::from_secs(15),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DashboardConfig {
    /// Below this available balance the balance pane turns red; every new
    /// crossing rings and is logged.
    pub low_balance_threshold: Option<Decimal>,
    /// A fall of more than this between two readings is logged and rings.
    pub balance_drop_alert: Option<Decimal>,
}

/// `[alerts]`: telling operators who are looking at another window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertsConfig {
    /// Desktop notifications besides the bell (off by default).
    pub desktop: bool,
}

/// Prefills for the new-session form and `digilocker create`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionDefaults {
    pub provider: Option<Provider>,
    pub flow: UserFlow,
    pub documents: Vec<DocumentType>,
    pub redirect_url: Option<Url>,
}

impl Default for SessionDefaults {
    fn default() -> Self {
        SessionDefaults {
            provider: None,
            flow: UserFlow::Signup,
            documents: vec![DocumentType::Aadhaar],
            redirect_url: None,
        }
    }
}

/// The dashboard's built-in colour themes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThemeName {
    /// Base ANSI colours on the terminal's own foreground; reads on dark and
    /// most light backgrounds.
    #[default]
    Dark,
    /// Darker shades that keep their contrast on a white background.
    Light,
    /// Bright, bold colours and no dimmed text.
    HighContrast,
}

impl ThemeName {
    pub const ALL: [(&'static str, ThemeName); 3] = [
        ("dark", ThemeName::Dark),
        ("light", ThemeName::Light),
        ("high-contrast", ThemeName::HighContrast),
    ];
}

/// `[theme]`: a built-in theme and colours per role on top of it.
/// `NO_COLOR` (or `--no-color`) still wins over all of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ThemeConfig {
    pub name: ThemeName,
    pub ok: Option<Color>,
    pub pending: Option<Color>,
    pub failed: Option<Color>,
    pub stale: Option<Color>,
    pub accent: Option<Color>,
    pub muted: Option<Color>,
}

/// The colour roles `[theme]` accepts besides `name`.
pub const THEME_ROLES: [&str; 6] = ["ok", "pending", "failed", "stale", "accent", "muted"];

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub instantpay: Option<InstantPayConfig>,
    pub cashfree: Option<CashfreeConfig>,
    pub polling: PollingConfig,
    pub dashboard: DashboardConfig,
    pub alerts: AlertsConfig,
    pub defaults: SessionDefaults,
    pub theme: ThemeConfig,
    /// What was wrong in `[theme]` (the defaults stand in): only the
    /// dashboard draws, so only it (and `config check`) refuses them; every
    /// other command just warns.
    pub theme_problems: Vec<ConfigProblem>,
    /// `[keys]`: action name to the keys that trigger it, as written. The
    /// dashboard's keymap checks names, keys and conflicts (`config check`
    /// reports them).
    pub keys: BTreeMap<String, Vec<String>>,
    /// `[operator] name`: who this operator is in audit rows ("by").
    pub operator: Option<String>,
    /// `[server]`: team mode; commands go to this server, not the providers.
    pub server: Option<ServerConfig>,
    /// `[store] url`: a PostgreSQL URL for the store instead of the SQLite
    /// file in the data folder (what `payops serve` replicas share). A
    /// secret: it may carry a password.
    pub store_url: Option<SecretString>,
    /// `[server] metrics_addr` and `log_format`: how `payops serve` itself
    /// runs (its flags say the same and win).
    pub serve: ServeSettings,
}

/// `payops serve`'s own settings from the file or environment.
#[derive(Debug, Clone, Default)]
pub struct ServeSettings {
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub log_format: Option<crate::logging::LogFormat>,
}

/// A team-mode server and this operator's token for it.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `url`: one server, or several replicas (comma-separated) tried in
    /// turn when one does not answer.
    pub urls: Vec<Url>,
    /// Never on a command line: the file or `PAYOPS_SERVER_TOKEN`.
    pub token: Option<SecretString>,
    /// `ca_file`: certificate authorities (PEM) trusted besides the public
    /// ones, for a server whose certificate an internal CA signed. Read and
    /// checked at load.
    pub ca_pem: Option<Vec<u8>>,
}

/// A config problem, naming the key (`cashfree.client_secret`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigProblem {
    pub key: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("config file {path} line {line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// `write_template` could not write (or would have overwritten) the file.
    #[error("cannot write config file {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("invalid configuration: {}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<ConfigProblem>),
}

/// A loaded configuration with where it came from and non-fatal warnings
/// (e.g. a config file readable by others).
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    /// The file read, if any.
    pub source: Option<PathBuf>,
    pub warnings: Vec<String>,
}

/// The config file path in use: `explicit`, else `PAYOPS_CONFIG`, else the
/// platform default. `None` only when no home directory can be found.
pub fn config_path(explicit: Option<&Path>, env: &Env) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    if let Some(path) = env.get(ENV_CONFIG) {
        return Some(PathBuf::from(path));
    }
    ProjectDirs::from("", "", "payops").map(|dirs| dirs.config_dir().join("config.toml"))
}

/// The data folder (database, logs): `PAYOPS_DATA_DIR`, else the platform
/// data dir, else `./.payops` when no home directory can be found.
pub fn data_dir(env: &Env) -> PathBuf {
    if let Some(path) = env.get(ENV_DATA_DIR) {
        return PathBuf::from(path);
    }
    ProjectDirs::from("", "", "payops")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".payops"))
}

/// Loads the file (if it exists; a missing default file is fine, a missing
/// explicit one is an error) and applies env overrides. Reports every problem at once.
pub fn load(explicit: Option<&Path>, env: &Env) -> Result<LoadedConfig, ConfigError> {
    let chosen = explicit.is_some() || env.get(ENV_CONFIG).is_some();
    let path = config_path(explicit, env);
    load_from(path.as_deref(), chosen, env)
}

/// The `[keys]` entries (and `PAYOPS_KEYS_*`) alone, read even when the rest
/// of the configuration is invalid, so `config check` can report key
/// problems together with the others. Unreadable files give none.
pub fn raw_keys(explicit: Option<&Path>, env: &Env) -> BTreeMap<String, Vec<String>> {
    let table = config_path(explicit, env)
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| toml::from_str::<toml::Table>(&text).ok())
        .unwrap_or_default();
    Resolver::new(table, env).keys()
}

/// `load` with the file already chosen: `None` configures from the
/// environment alone; a missing file is an error only when `must_exist`.
pub fn load_from(
    path: Option<&Path>,
    must_exist: bool,
    env: &Env,
) -> Result<LoadedConfig, ConfigError> {
    let mut warnings = Vec::new();
    let mut source = None;
    let mut table = toml::Table::new();
    if let Some(path) = path {
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| ConfigError::Read {
                    path: path.to_path_buf(),
                    message: "is not UTF-8 text".into(),
                })?;
                table = parse_toml(path, &text)?;
                if let Some(warning) = permission_warning(path) {
                    warnings.push(warning);
                }
                source = Some(path.to_path_buf());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {}
            Err(e) => {
                let message = if e.kind() == std::io::ErrorKind::NotFound {
                    "no such file (run `payops config init` to create one)".to_string()
                } else {
                    e.to_string()
                };
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    message,
                });
            }
        }
    }
    let mut resolver = Resolver::new(table, env);
    resolver.file_dir = path.and_then(Path::parent).map(Path::to_path_buf);
    let config = resolver.resolve()?;
    Ok(LoadedConfig {
        config,
        source,
        warnings,
    })
}

fn parse_toml(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    toml::from_str::<toml::Table>(text).map_err(|e| {
        // Only toml's message, never its Display: that quotes the offending
        // line, which may hold a secret.
        let line = e.span().map(|span| line_of(text, span.start)).unwrap_or(1);
        let message = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line,
            message,
        }
    })
}

/// The 1-based line holding byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(unix)]
fn permission_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o044 != 0).then(|| {
        format!(
            "config file {} is readable by others (mode {:03o}); run chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })
}

#[cfg(not(unix))]
fn permission_warning(_path: &Path) -> Option<String> {
    None
}

const ENV_CONFIG: &str = "PAYOPS_CONFIG";
const ENV_DATA_DIR: &str = "PAYOPS_DATA_DIR";

const DEFAULT_INSTANTPAY_BASE: &str = "https://api.instantpay.in";
/// The Cashfree API version of the OpenAPI documents payops follows.
pub const DEFAULT_CASHFREE_API_VERSION: &str = "2023-12-18";
/// Cashfree's sandbox; production is `https://api.cashfree.com/verification`.
const DEFAULT_CASHFREE_BASE: &str = "https://sandbox.cashfree.com/verification";

const KEYS_SECTION: &str = "keys";

/// Every section and its keys: the allow-list that catches typos.
const SECTIONS: &[(&str, &[&str])] = &[
    (
        "instantpay",
        &[
            "base_url",
            "client_id",
            "client_secret",
            "endpoint_ip",
            "account_number",
            "latitude",
            "longitude",
        ],
    ),
    (
        "cashfree",
        &[
            "base_url",
            "client_id",
            "client_secret",
            "api_version",
            "public_key_path",
            "previous_client_secret",
            "webhooks",
            "webhook_tolerance",
            "webhook_quiet",
        ],
    ),
    (
        "polling",
        &[
            "session_interval_secs",
            "balance_interval_secs",
            "requests_per_minute",
            "max_concurrent_polls",
            "request_timeout_secs",
        ],
    ),
    (
        "dashboard",
        &["low_balance_threshold", "balance_drop_alert"],
    ),
    ("alerts", &["desktop"]),
    (
        "theme",
        &[
            "name", "ok", "pending", "failed", "stale", "accent", "muted",
        ],
    ),
    // Open-ended: its keys are action names, checked by the keymap.
    (KEYS_SECTION, &[]),
    (
        "defaults",
        &["provider", "flow", "documents", "redirect_url"],
    ),
    ("operator", &["name"]),
    (
        "server",
        &["url", "token", "ca_file", "metrics_addr", "log_format"],
    ),
    ("store", &["url"]),
];

fn env_name(section: &str, key: &str) -> String {
    format!(
        "PAYOPS_{}_{}",
        section.to_ascii_uppercase(),
        key.to_ascii_uppercase()
    )
}

/// One configured value and where it came from.
struct Raw {
    /// How problems name it: `section.key`, or the variable for env values.
    label: String,
    value: RawValue,
}

enum RawValue {
    File(toml::Value),
    Env(String),
}

fn type_name(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a decimal number",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date-time",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

/// Turns the file table plus the environment into a `Config`, collecting
/// every problem instead of stopping at the first.
struct Resolver<'a> {
    sections: BTreeMap<String, toml::Table>,
    env: &'a Env,
    problems: Vec<ConfigProblem>,
    /// The config file's folder, for relative paths written in it.
    file_dir: Option<PathBuf>,
}

impl<'a> Resolver<'a> {
    fn new(table: toml::Table, env: &'a Env) -> Resolver<'a> {
        let mut resolver = Resolver {
            sections: BTreeMap::new(),
            env,
            problems: Vec::new(),
            file_dir: None,
        };
        for (name, value) in table {
            let Some((_, keys)) = SECTIONS.iter().find(|(s, _)| *s == name) else {
                let known: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).collect();
                resolver.problem(
                    &name,
                    format!(
                        "unknown section{}; expected one of {}",
                        suggestion(&name, &known),
                        known.join(", ")
                    ),
                );
                continue;
            };
            let toml::Value::Table(section) = value else {
                resolver.problem(
                    &name,
                    format!("expected a [{name}] section, found {}", type_name(&value)),
                );
                continue;
            };
            for key in section.keys() {
                if name != KEYS_SECTION && !keys.contains(&key.as_str()) {
                    resolver.problem(
                        &format!("{name}.{key}"),
                        format!(
                            "unknown key{}; [{name}] accepts {}",
                            suggestion(key, keys),
                            keys.join(", ")
                        ),
                    );
                }
            }
            resolver.sections.insert(name, section);
        }
        resolver.check_env_typos();
        resolver
    }

    /// `PAYOPS_CASHFREE_CLIENTSECRET` would otherwise be ignored in silence.
    fn check_env_typos(&mut self) {
        let mut typos = Vec::new();
        for name in self.env.vars.keys() {
            for (section, keys) in SECTIONS.iter().filter(|(s, _)| *s != KEYS_SECTION) {
                let prefix = format!("PAYOPS_{}_", section.to_ascii_uppercase());
                if let Some(rest) = name.strip_prefix(&prefix) {
                    let known = keys.iter().any(|k| k.eq_ignore_ascii_case(rest));
                    if !known && self.env.get(name).is_some() {
                        let expected: Vec<String> =
                            keys.iter().map(|k| env_name(section, k)).collect();
                        typos.push((
                            name.clone(),
                            format!(
                                "unknown variable; [{section}] is overridden by {}",
                                expected.join(", ")
                            ),
                        ));
                    }
                }
            }
        }
        for (name, message) in typos {
            self.problem(&name, message);
        }
    }

    fn problem(&mut self, key: &str, message: impl Into<String>) {
        self.problems.push(ConfigProblem {
            key: key.to_string(),
            message: message.into(),
        });
    }

    fn raw(&self, section: &str, key: &str) -> Option<Raw> {
        let var = env_name(section, key);
        if let Some(value) = self.env.get(&var) {
            return Some(Raw {
                label: var,
                value: RawValue::Env(value.to_string()),
            });
        }
        let value = self.sections.get(section)?.get(key)?;
        Some(Raw {
            label: format!("{section}.{key}"),
            value: RawValue::File(value.clone()),
        })
    }

    /// A provider is configured when its section exists or any of its variables is set.
    fn present(&self, section: &str) -> bool {
        self.sections.contains_key(section)
            || SECTIONS
                .iter()
                .filter(|(s, _)| *s == section)
                .flat_map(|(_, keys)| keys.iter())
                .any(|key| self.env.get(&env_name(section, key)).is_some())
    }

    fn required(&mut self, section: &str, key: &str) -> Option<Raw> {
        let raw = self.raw(section, key);
        if raw.is_none() {
            self.problem(
                &format!("{section}.{key}"),
                format!(
                    "is required when [{section}] is configured (set it in the file or {})",
                    env_name(section, key)
                ),
            );
        }
        raw
    }

    fn string(&mut self, raw: Raw) -> Option<String> {
        let text = match raw.value {
            RawValue::Env(text) => text,
            RawValue::File(toml::Value::String(text)) => text,
            RawValue::File(other) => {
                self.problem(
                    &raw.label,
                    format!("expected a string, found {}", type_name(&other)),
                );
                return None;
            }
        };
        let text = text.trim().to_string();
        if text.is_empty() {
            self.problem(&raw.label, "is empty");
            return None;
        }
        Some(text)
    }

    /// Digits may be written as a string or a bare number.
    fn number_text(&mut self, raw: Raw, expected: &str) -> Option<String> {
        match raw.value {
            RawValue::File(toml::Value::Integer(n)) => Some(n.to_string()),
            RawValue::File(toml::Value::Float(f)) if f.is_finite() => Some(f.to_string()),
            RawValue::File(toml::Value::String(_)) | RawValue::Env(_) => self.string(raw),
            RawValue::File(other) => {
                self.problem(
                    &raw.label,
                    format!("expected {expected}, found {}", type_name(&other)),
                );
                None
            }
        }
    }

    fn whole(&mut self, raw: Raw, min: u64, max: u64) -> Option<u64> {
        let value = match raw.value {
            RawValue::File(toml::Value::Integer(n)) => n,
            RawValue::Env(ref text) => match text.trim().parse::<i64>() {
                Ok(n) => n,
                Err(_) => {
                    self.problem(
                        &raw.label,
                        format!("'{}' is not a whole number", text.trim()),
                    );
                    return None;
                }
            },
            RawValue::File(ref other) => {
                self.problem(
                    &raw.label,
                    format!("expected a whole number, found {}", type_name(other)),
                );
                return None;
            }
        };
        match u64::try_from(value) {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.problem(
                    &raw.label,
                    format!("{value} is out of range (minimum {min}, maximum {max})"),
                );
                None
            }
        }
    }

    fn validated<T>(
        &mut self,
        raw: Raw,
        check: impl FnOnce(&str, &str) -> Result<T, ValidationError>,
    ) -> Option<T> {
        let label = raw.label.clone();
        let text = self.string(raw)?;
        match check(&label, &text) {
            Ok(value) => Some(value),
            Err(e) => {
                self.problem(&label, e.message);
                None
            }
        }
    }

    fn base_url(&mut self, section: &str, default: &str) -> Option<Url> {
        match self.raw(section, "base_url") {
            Some(raw) => self.validated(raw, validate::base_url),
            None => match Url::parse(default) {
                Ok(url) => Some(url),
                Err(e) => {
                    self.problem(&format!("{section}.base_url"), e.to_string());
                    None
                }
            },
        }
    }

    fn secret(&mut self, section: &str) -> Option<SecretString> {
        let raw = self.required(section, "client_secret")?;
        // `string` never quotes the value, so a misplaced secret cannot leak.
        self.string(raw).map(SecretString::from)
    }

    fn check<T>(&mut self, label: &str, result: Result<T, ValidationError>) -> Option<T> {
        result.map_err(|e| self.problem(label, e.message)).ok()
    }

    /// `true`/`false` in the file; in the environment also 1/0, yes/no, on/off.
    fn boolean(&mut self, raw: Raw) -> Option<bool> {
        match raw.value {
            RawValue::File(toml::Value::Boolean(value)) => Some(value),
            RawValue::Env(ref text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" => Some(false),
                other => {
                    self.problem(&raw.label, format!("'{other}' is not true or false"));
                    None
                }
            },
            RawValue::File(ref other) => {
                self.problem(
                    &raw.label,
                    format!("expected true or false, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn resolve(mut self) -> Result<Config, ConfigError> {
        let config = Config {
            instantpay: self.instantpay(),
            cashfree: self.cashfree(),
            polling: self.polling(),
            dashboard: self.dashboard(),
            alerts: self.alerts(),
            defaults: self.defaults(),
            theme: self.theme(),
            theme_problems: Vec::new(),
            keys: self.keys(),
            operator: self
                .raw("operator", "name")
                .and_then(|raw| self.string(raw)),
            server: self.server(),
            store_url: self.store_url(),
            serve: self.serve_settings(),
        };
        let mut config = config;
        let (theme, problems): (Vec<_>, Vec<_>) = self.problems.into_iter().partition(|p| {
            p.key.starts_with("theme.") || p.key.starts_with(&env_name("theme", ""))
        });
        if problems.is_empty() {
            config.theme_problems = theme;
            Ok(config)
        } else {
            // Failing anyway: every problem at once, the look's too.
            Err(ConfigError::Invalid(
                problems.into_iter().chain(theme).collect(),
            ))
        }
    }
}

/// " (did you mean `x`?)" for a near miss, else "".
fn suggestion(word: &str, candidates: &[&str]) -> String {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}
