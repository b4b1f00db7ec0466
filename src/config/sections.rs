//! Each section's reading: its keys, their checks, and what a section left
//! out defaults to. The generic readers (strings, numbers, URLs, secrets)
//! are in `config.rs`.

use super::*;

/// A provider section's common keys, each `None` when it was bad.
struct ProviderKeys {
    base_url: Option<Url>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
}

impl Resolver<'_> {
    pub(super) fn instantpay(&mut self) -> Option<InstantPayConfig> {
        const S: &str = "instantpay";
        let keys = self.provider_keys(S, DEFAULT_INSTANTPAY_BASE)?;
        let endpoint_ip = self.required(S, "endpoint_ip").and_then(|r| {
            self.validated(r, |field, text| {
                text.parse::<IpAddr>()
                    .map(|ip| ip.to_string())
                    .map_err(|_| {
                        ValidationError::new(field, format!("'{text}' is not an IP address"))
                    })
            })
        });
        let account_number = self.required(S, "account_number").and_then(|r| {
            let label = r.label.clone();
            let text = self.number_text(r, "a 10-digit mobile number")?;
            if text.len() == 10 && text.chars().all(|c| c.is_ascii_digit()) {
                Some(text)
            } else {
                self.problem(
                    &label,
                    "must be the 10-digit InstantPay registered mobile number",
                );
                None
            }
        });
        let latitude = self.required(S, "latitude").and_then(|r| {
            let label = r.label.clone();
            let text = self.number_text(r, "degrees")?;
            self.check(&label, validate::latitude(&label, &text))
        });
        let longitude = self.required(S, "longitude").and_then(|r| {
            let label = r.label.clone();
            let text = self.number_text(r, "degrees")?;
            self.check(&label, validate::longitude(&label, &text))
        });
        Some(InstantPayConfig {
            base_url: keys.base_url?,
            client_id: keys.client_id?,
            client_secret: keys.client_secret?,
            endpoint_ip: endpoint_ip?,
            account_number: account_number?,
            latitude: latitude?,
            longitude: longitude?,
        })
    }

    pub(super) fn cashfree(&mut self) -> Option<CashfreeConfig> {
        const S: &str = "cashfree";
        let keys = self.provider_keys(S, DEFAULT_CASHFREE_BASE)?;
        // Cashfree's versions are dates (`2023-12-18`): anything else is
        // refused by every call, so it is refused here, naming the key.
        let api_version = self
            .raw(S, "api_version")
            .and_then(|r| {
                self.validated(r, |field, text| {
                    let text = text.trim();
                    text.parse::<jiff::civil::Date>()
                        .ok()
                        .filter(|date| date.to_string() == text)
                        .map(|_| text.to_string())
                        .ok_or_else(|| {
                            ValidationError::new(
                                field,
                                format!(
                                    "'{text}' is not a Cashfree API version; expected a date such as {DEFAULT_CASHFREE_API_VERSION}"
                                ),
                            )
                        })
                })
            })
            .unwrap_or_else(|| DEFAULT_CASHFREE_API_VERSION.to_string());
        // None: not asked for; Some(None): asked for, but the file is bad.
        let signing_key = self
            .raw(S, "public_key_path")
            .map(|raw| self.signing_key(raw, keys.client_id.as_deref()));
        let previous_client_secret = self
            .raw(S, "previous_client_secret")
            .map(|raw| self.string(raw).map(SecretString::from));
        let webhooks = self
            .raw(S, "webhooks")
            .map(|raw| self.boolean(raw))
            .unwrap_or(Some(false));
        let defaults = WebhookConfig::default();
        let webhook_tolerance = self.length(S, "webhook_tolerance", 1, 3_600, defaults.tolerance);
        let webhook_quiet = self.length(S, "webhook_quiet", 5, 3_600, defaults.quiet);
        Some(CashfreeConfig {
            base_url: keys.base_url?,
            client_id: keys.client_id?,
            client_secret: keys.client_secret?,
            webhook: WebhookConfig {
                expected: webhooks?,
                previous_client_secret: match previous_client_secret {
                    Some(None) => return None,
                    other => other.flatten(),
                },
                tolerance: webhook_tolerance?,
                quiet: webhook_quiet?,
            },
            api_version,
            signing_key: match signing_key {
                Some(None) => return None,
                other => other.flatten(),
            },
        })
    }

    /// A length of time (`90s`, `5m`, `1h`) within `min..=max` seconds,
    /// or `default` when the key is absent; `None` when it is bad.
    fn length(
        &mut self,
        section: &str,
        key: &str,
        min: u64,
        max: u64,
        default: Duration,
    ) -> Option<Duration> {
        let Some(raw) = self.raw(section, key) else {
            return Some(default);
        };
        let label = raw.label.clone();
        let text = match raw.value {
            RawValue::File(toml::Value::Integer(n)) => format!("{n}s"),
            _ => self.string(raw)?,
        };
        let seconds = validate::parse_duration(&text)
            .map_err(|message| self.problem(&label, message))
            .ok()?
            .as_secs();
        match u64::try_from(seconds) {
            Ok(n) if (min..=max).contains(&n) => Some(Duration::from_secs(n)),
            _ => {
                self.problem(
                    &label,
                    format!("'{text}' is out of range ({min} s to {max} s)"),
                );
                None
            }
        }
    }

    /// The keys every provider section has: where to call and as whom.
    /// `None` when the section is absent; otherwise each key is read (so
    /// each problem is reported) and stands as `None` when it is bad.
    fn provider_keys(&mut self, section: &str, default_base: &str) -> Option<ProviderKeys> {
        if !self.present(section) {
            return None;
        }
        Some(ProviderKeys {
            base_url: self.base_url(section, default_base),
            client_id: self
                .required(section, "client_id")
                .and_then(|r| self.string(r)),
            client_secret: self.secret(section),
        })
    }

    /// Reads the key now, so a bad file is a problem `config check` reports
    /// (naming the key and the path) rather than a failure at request time.
    /// A relative path in the file is relative to the file's folder.
    pub(super) fn signing_key(&mut self, raw: Raw, client_id: Option<&str>) -> Option<SigningKey> {
        let label = raw.label.clone();
        let from_file = matches!(raw.value, RawValue::File(_));
        let text = self.string(raw)?;
        let mut path = PathBuf::from(&text);
        if let Some(dir) = self
            .file_dir
            .as_ref()
            .filter(|_| from_file && path.is_relative())
        {
            path = dir.join(path);
        }
        let key = match SigningKey::load(&path) {
            Ok(key) => key,
            Err(message) => {
                self.problem(&label, format!("{}: {message}", path.display()));
                return None;
            }
        };
        // A key too small to seal "<client_id>.<time>" would fail on every call.
        if let Err(message) = key.sign(client_id.unwrap_or("client-id"), 0) {
            self.problem(&label, format!("{}: {message}", path.display()));
            return None;
        }
        Some(key)
    }

    pub(super) fn polling(&mut self) -> PollingConfig {
        const S: &str = "polling";
        let defaults = PollingConfig::default();
        let secs = |this: &mut Self, key: &str, min: u64, max: u64, default: Duration| {
            this.raw(S, key)
                .and_then(|r| this.whole(r, min, max))
                .map(Duration::from_secs)
                .unwrap_or(default)
        };
        let session_interval = secs(
            self,
            "session_interval_secs",
            1,
            3600,
            defaults.session_interval,
        );
        let balance_interval = secs(
            self,
            "balance_interval_secs",
            30,
            86_400,
            defaults.balance_interval,
        );
        let request_timeout = secs(
            self,
            "request_timeout_secs",
            1,
            120,
            defaults.request_timeout,
        );
        let requests_per_minute = self
            .raw(S, "requests_per_minute")
            .and_then(|r| self.whole(r, 1, 1000))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(defaults.requests_per_minute);
        let max_concurrent_polls = self
            .raw(S, "max_concurrent_polls")
            .and_then(|r| self.whole(r, 1, 64))
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(defaults.max_concurrent_polls);
        PollingConfig {
            session_interval,
            balance_interval,
            requests_per_minute,
            max_concurrent_polls,
            request_timeout,
        }
    }

    pub(super) fn dashboard(&mut self) -> DashboardConfig {
        DashboardConfig {
            low_balance_threshold: self.amount("dashboard", "low_balance_threshold"),
            balance_drop_alert: self.amount("dashboard", "balance_drop_alert"),
        }
    }

    /// A sum of rupees, written as a string or a bare number, not negative.
    pub(super) fn amount(&mut self, section: &str, key: &str) -> Option<Decimal> {
        let raw = self.raw(section, key)?;
        let label = raw.label.clone();
        let text = self.number_text(raw, "an amount such as \"5000.00\"")?;
        match Decimal::from_str(&text) {
            Ok(amount) if amount.is_sign_negative() => {
                self.problem(&label, format!("{text} is negative"));
                None
            }
            // Rupees and paise: a third decimal is no amount of money.
            Ok(amount) if amount.normalize().scale() > 2 => {
                self.problem(
                    &label,
                    format!("{text} has more than two decimal places (rupees and paise)"),
                );
                None
            }
            Ok(amount) => Some(amount),
            Err(_) => {
                self.problem(&label, format!("'{text}' is not an amount"));
                None
            }
        }
    }

    pub(super) fn server(&mut self) -> Option<ServerConfig> {
        const S: &str = "server";
        let url = self.raw(S, "url");
        let token = self
            .raw(S, "token")
            .and_then(|raw| self.string(raw))
            .map(SecretString::from);
        let ca_pem = match self.raw(S, "ca_file") {
            Some(raw) => Some(self.ca_bundle(raw)?),
            None => None,
        };
        match url {
            Some(raw) => Some(ServerConfig {
                urls: self.validated(raw, validate::base_urls)?,
                token,
                ca_pem,
            }),
            None if token.is_some() => {
                self.problem(
                    "server.url",
                    "is required when a server token is set (or PAYOPS_SERVER_URL)",
                );
                None
            }
            None => None,
        }
    }

    /// A PEM bundle of certificate authorities, read now so that a missing
    /// or unreadable file is a problem `config check` names. A relative
    /// path in the file is relative to the file's folder.
    fn ca_bundle(&mut self, raw: Raw) -> Option<Vec<u8>> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let label = raw.label.clone();
        let from_file = matches!(raw.value, RawValue::File(_));
        let mut path = PathBuf::from(self.string(raw)?);
        if let Some(dir) = self
            .file_dir
            .as_ref()
            .filter(|_| from_file && path.is_relative())
        {
            path = dir.join(path);
        }
        let pem = match std::fs::read(&path) {
            Ok(pem) => pem,
            Err(e) => {
                self.problem(&label, format!("cannot read {}: {e}", path.display()));
                return None;
            }
        };
        let certificates = CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>();
        match certificates {
            Ok(found) if !found.is_empty() => Some(pem),
            Ok(_) => {
                self.problem(
                    &label,
                    format!("{} holds no PEM certificate", path.display()),
                );
                None
            }
            Err(e) => {
                self.problem(&label, format!("{}: {e}", path.display()));
                None
            }
        }
    }

    pub(super) fn serve_settings(&mut self) -> ServeSettings {
        const S: &str = "server";
        let metrics_addr = self.raw(S, "metrics_addr").and_then(|raw| {
            self.validated(raw, |field, text| {
                text.trim().parse::<std::net::SocketAddr>().map_err(|_| {
                    ValidationError::new(
                        field,
                        format!("'{text}' is not an address such as 127.0.0.1:9788"),
                    )
                })
            })
        });
        let log_format = self.raw(S, "log_format").and_then(|raw| {
            self.validated(raw, |field, text| {
                text.parse::<crate::logging::LogFormat>()
                    .map_err(|message| ValidationError::new(field, message))
            })
        });
        ServeSettings {
            metrics_addr,
            log_format,
        }
    }

    /// A `postgres://` URL; problems never quote it (it may hold a password).
    pub(super) fn store_url(&mut self) -> Option<SecretString> {
        let raw = self.raw("store", "url")?;
        let label = raw.label.clone();
        let text = self.string(raw)?;
        match crate::store::postgres::parse_url(text.trim()) {
            Ok(_) => Some(SecretString::from(text.trim().to_string())),
            Err(message) => {
                self.problem(&label, message);
                None
            }
        }
    }

    pub(super) fn alerts(&mut self) -> AlertsConfig {
        AlertsConfig {
            desktop: self
                .raw("alerts", "desktop")
                .and_then(|raw| self.boolean(raw))
                .unwrap_or(false),
        }
    }

    pub(super) fn defaults(&mut self) -> SessionDefaults {
        const S: &str = "defaults";
        let fallback = SessionDefaults::default();
        let provider = self.raw(S, "provider").and_then(|r| {
            self.validated(r, |field, text| {
                Provider::from_str(text).map_err(|e| ValidationError::new(field, e))
            })
        });
        let flow = self
            .raw(S, "flow")
            .and_then(|r| {
                self.validated(r, |field, text| {
                    UserFlow::parse(text).ok_or_else(|| {
                        ValidationError::new(
                            field,
                            format!("'{text}' is not a flow; expected signup or signin"),
                        )
                    })
                })
            })
            .unwrap_or(fallback.flow);
        let documents = self
            .raw(S, "documents")
            .and_then(|r| self.documents(r))
            .unwrap_or(fallback.documents);
        let redirect_url = self
            .raw(S, "redirect_url")
            .and_then(|r| self.validated(r, validate::redirect_url));
        SessionDefaults {
            provider,
            flow,
            documents,
            redirect_url,
        }
    }

    /// An array of words or one comma-separated string.
    pub(super) fn documents(&mut self, raw: Raw) -> Option<Vec<DocumentType>> {
        let label = raw.label.clone();
        let text = match raw.value {
            RawValue::File(toml::Value::Array(items)) => {
                let mut words = Vec::with_capacity(items.len());
                for item in &items {
                    match item {
                        toml::Value::String(word) => words.push(word.clone()),
                        other => {
                            self.problem(
                                &label,
                                format!(
                                    "expected an array of strings, found {} in it",
                                    type_name(other)
                                ),
                            );
                            return None;
                        }
                    }
                }
                words.join(",")
            }
            RawValue::File(toml::Value::String(text)) | RawValue::Env(text) => text,
            RawValue::File(other) => {
                self.problem(
                    &label,
                    format!(
                        "expected an array of strings or a comma-separated string, found {}",
                        type_name(&other)
                    ),
                );
                return None;
            }
        };
        self.check(&label, validate::documents(&label, &text))
    }

    pub(super) fn theme(&mut self) -> ThemeConfig {
        const S: &str = "theme";
        let name = self
            .raw(S, "name")
            .and_then(|r| {
                self.validated(r, |field, text| {
                    let word = text.trim().to_ascii_lowercase();
                    ThemeName::ALL
                        .iter()
                        .find(|(name, _)| *name == word)
                        .map(|(_, theme)| *theme)
                        .ok_or_else(|| {
                            ValidationError::new(
                                field,
                                format!(
                                    "'{text}' is not a theme; expected dark, light or high-contrast"
                                ),
                            )
                        })
                })
            })
            .unwrap_or_default();
        let mut colour = |role: &str| {
            self.raw(S, role).and_then(|r| {
                self.validated(r, |field, text| {
                    Color::from_str(text.trim()).map_err(|_| {
                        ValidationError::new(
                            field,
                            format!(
                                "'{text}' is not a colour; use a name (green, light-red, gray), \
                                 #rrggbb or a 0-255 palette index"
                            ),
                        )
                    })
                })
            })
        };
        ThemeConfig {
            name,
            ok: colour("ok"),
            pending: colour("pending"),
            failed: colour("failed"),
            stale: colour("stale"),
            accent: colour("accent"),
            muted: colour("muted"),
        }
    }

    /// `[keys]` entries, and `PAYOPS_KEYS_<ACTION>` variables over them: each
    /// one key or an array of keys.
    pub(super) fn keys(&mut self) -> BTreeMap<String, Vec<String>> {
        let mut keys = BTreeMap::new();
        let section = self.sections.get(KEYS_SECTION).cloned().unwrap_or_default();
        for (action, value) in section {
            let label = format!("{KEYS_SECTION}.{action}");
            let texts = match value {
                toml::Value::String(text) => vec![text],
                toml::Value::Array(items) => {
                    let texts: Vec<String> = items
                        .iter()
                        .filter_map(|item| item.as_str().map(str::to_string))
                        .collect();
                    if texts.len() != items.len() {
                        self.problem(&label, "expected a key or an array of keys (strings)");
                        continue;
                    }
                    texts
                }
                other => {
                    self.problem(
                        &label,
                        format!(
                            "expected a key or an array of keys, found {}",
                            type_name(&other)
                        ),
                    );
                    continue;
                }
            };
            keys.insert(action, texts);
        }
        let prefix = format!("PAYOPS_{}_", KEYS_SECTION.to_ascii_uppercase());
        for (name, value) in &self.env.vars {
            if let Some(action) = name.strip_prefix(&prefix) {
                let texts = value
                    .split(',')
                    .map(|key| key.trim().to_string())
                    .filter(|key| !key.is_empty())
                    .collect();
                keys.insert(action.to_ascii_lowercase(), texts);
            }
        }
        keys
    }
}
