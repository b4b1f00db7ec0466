//! The command line, as clap parses it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::{Provider, UserFlow};

#[derive(Debug, Parser)]
#[command(
    name = "payops",
    version,
    about = "Payments operations dashboard and CLI for InstantPay and Cashfree",
    long_about = "payops with no command opens the live dashboard. Commands run headless for scripts.\n\
                  Exit codes: 0 ok, 1 declined by the provider (or a watched session ended not \
                  AUTHENTICATED), 2 usage or configuration error, 3 provider unreachable or failing, \
                  4 outcome unknown."
)]
pub struct Cli {
    /// Configuration file (default: the platform config dir's payops/config.toml).
    #[arg(long, global = true, env = "PAYOPS_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Run against an in-process simulator with demo credentials and a separate demo/ data folder.
    #[arg(long)]
    pub demo: bool,

    /// Draw the dashboard without colours (also honoured: NO_COLOR).
    #[arg(long)]
    pub no_color: bool,

    /// Team mode: the payops server to work through (as PAYOPS_SERVER_URL).
    /// The token stays in PAYOPS_SERVER_TOKEN or [server] token.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The options of a command that reaches the providers or a server and
/// prints an answer: each such command takes them after its name.
#[derive(Debug, Clone, Default, Args)]
pub struct Reach {
    /// Run against an in-process simulator with demo credentials and a separate demo/ data folder.
    #[arg(long, global = true)]
    pub demo: bool,

    /// Print one JSON object (or array) on stdout instead of a table.
    #[arg(long, global = true)]
    pub json: bool,

    /// Team mode: the payops server to work through (as PAYOPS_SERVER_URL).
    /// The token stays in PAYOPS_SERVER_TOKEN or [server] token.
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,
}

/// `--json` alone: for commands that print an answer but reach no server.
#[derive(Debug, Clone, Default, Args)]
pub struct JsonOnly {
    /// Print one JSON object (or array) on stdout instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

impl Cli {
    /// What the command's own options say, with the dashboard's defaults
    /// for commands that take none.
    fn reach(&self) -> Reach {
        match &self.command {
            Some(Command::Balance(args)) => args.reach.clone(),
            Some(Command::Digilocker(args)) => args.reach.clone(),
            Some(Command::Link { reach, .. })
            | Some(Command::Audit { reach, .. })
            | Some(Command::Whoami { reach }) => reach.clone(),
            Some(Command::Activity(args)) => args.reach.clone(),
            Some(Command::Notify(args)) => args.reach.clone(),
            Some(Command::Serve(args)) => match &args.command {
                Some(ServeCommand::Token(token)) => Reach {
                    demo: args.demo,
                    json: token.json.json,
                    server: token.server.clone(),
                },
                None => Reach {
                    demo: args.demo,
                    ..Reach::default()
                },
            },
            Some(Command::Config(args)) => Reach {
                json: args.json.json,
                ..Reach::default()
            },
            Some(Command::Sim(_)) | Some(Command::Completions { .. }) | None => Reach::default(),
        }
    }

    /// `--demo`, before the command (as for the dashboard) or after it.
    pub fn demo(&self) -> bool {
        self.demo || self.reach().demo
    }

    /// `--json` after a command that prints an answer.
    pub fn json(&self) -> bool {
        self.reach().json
    }

    /// `--server`, after the command or (for the dashboard) alone.
    pub fn server(&self) -> Option<String> {
        self.reach().server.or_else(|| self.server.clone())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch and print the InstantPay wallet balance, or (--history) the readings on record.
    Balance(BalanceArgs),
    /// DigiLocker KYC sessions.
    Digilocker(DigilockerArgs),
    /// Payout-link status, amount and activity.
    Link {
        /// The payout link id.
        link_id: String,
        #[command(flatten)]
        reach: Reach,
    },
    /// Re-send a pending payout link's notification (SMS / e-mail / WhatsApp) to its recipient.
    Notify(NotifyArgs),
    /// The notify audit trail, newest first.
    Audit {
        /// How many entries to show (1 to 1000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=1000))]
        limit: u16,
        /// The document access log (who fetched or revealed which
        /// consented document) instead of the notify audit.
        #[arg(long)]
        documents: bool,
        #[command(flatten)]
        reach: Reach,
    },
    /// Who you are to the server: server, operator, role, token expiry.
    Whoami {
        #[command(flatten)]
        reach: Reach,
    },
    /// The activity log (admin): every change made through the server,
    /// allowed or refused, newest first.
    Activity(ActivityArgs),
    /// Run the provider simulator.
    Sim(SimArgs),
    /// Team mode: the server that holds the provider credentials and runs the
    /// engine for everyone; `serve token` manages operators' tokens.
    Serve(ServeArgs),
    /// Configuration file helpers.
    Config(ConfigArgs),
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Args)]
pub struct ActivityArgs {
    /// Only this operator's rows.
    #[arg(long)]
    pub operator: Option<String>,
    /// Only this action: create, track, label, refresh, stop, notify,
    /// balance_refresh, token_add, token_rotate, token_revoke.
    #[arg(long)]
    pub action: Option<String>,
    /// How far back: a length such as 30m, 24h or 7d.
    #[arg(long, value_name = "DURATION", value_parser = crate::validate::parse_duration)]
    pub since: Option<jiff::SignedDuration>,
    /// At most this many rows (1 to 1000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub limit: u16,
    /// Comma-separated values with a header row, for an auditor.
    #[arg(long)]
    pub csv: bool,
    #[command(flatten)]
    pub reach: Reach,
}

#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// Print the readings on record instead of fetching (no provider call).
    #[arg(long)]
    pub history: bool,
    /// With --history: how far back, in hours or days (24h, 7d). Readings
    /// older than a week are kept one an hour.
    #[arg(long, value_name = "SPAN", value_parser = crate::validate::parse_span, requires = "history")]
    pub since: Option<jiff::SignedDuration>,
    /// With --history: comma-separated values with a header row.
    #[arg(long, requires = "history")]
    pub csv: bool,
    #[command(flatten)]
    pub reach: Reach,
}

#[derive(Debug, Args)]
pub struct DigilockerArgs {
    #[command(flatten)]
    pub reach: Reach,
    #[command(subcommand)]
    pub command: DigilockerCommand,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub json: JsonOnly,
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum DigilockerCommand {
    /// Create a session and start tracking it; prints its id, status and URL.
    Create(CreateArgs),
    /// Start tracking a session created elsewhere, by its provider reference.
    Track {
        #[arg(long, value_parser = parse_provider)]
        provider: Provider,
        /// InstantPay referenceId, or Cashfree reference_id / verification_id.
        reference: String,
    },
    /// Refresh one tracked session (our id, the provider reference, or our external ref).
    Status { id: String },
    /// Poll until the session is final; exit 0 only when AUTHENTICATED.
    Watch {
        id: String,
        /// Seconds between polls (default: the configured session interval).
        #[arg(long, value_name = "SECS")]
        interval: Option<u64>,
    },
    /// The consented documents of an AUTHENTICATED session (served for one
    /// hour after consent), masked unless --reveal. Every fetch is logged.
    Documents {
        id: String,
        /// One document only: aadhaar, pan or driving_license (default: every consented one).
        #[arg(long = "type", value_name = "TYPE")]
        document: Option<String>,
        /// Show every field in full; logged as a reveal.
        #[arg(long)]
        reveal: bool,
    },
    /// Set or change a session's label (your ticket or case reference).
    Label {
        /// Our id, the provider reference, or our external ref.
        id: String,
        /// The new label (at most 64 characters); or --clear.
        label: Option<String>,
        /// Remove the label.
        #[arg(long, conflicts_with = "label")]
        clear: bool,
    },
    /// Tracked sessions (active by default).
    List {
        /// Include final and untracked sessions.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// instantpay or cashfree (default: provider in the [defaults] config section).
    #[arg(long, value_parser = parse_provider)]
    pub provider: Option<Provider>,
    /// The customer's DigiLocker journey.
    #[arg(long, value_enum)]
    pub flow: Option<FlowArg>,
    /// Documents to request (Cashfree), comma-separated: aadhaar,pan,driving_license.
    #[arg(long, value_name = "LIST")]
    pub docs: Option<String>,
    /// Where the customer lands afterwards (https).
    #[arg(long, value_name = "URL")]
    pub redirect_url: Option<String>,
    /// Your ticket or case reference for it (at most 64 characters).
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FlowArg {
    Signup,
    Signin,
}

impl From<FlowArg> for UserFlow {
    fn from(flow: FlowArg) -> Self {
        match flow {
            FlowArg::Signup => UserFlow::Signup,
            FlowArg::Signin => UserFlow::Signin,
        }
    }
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// The payout link id.
    pub link_id: String,
    /// Send without asking (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// With --yes: send even though a notification went for this link in the last 10 minutes.
    #[arg(long)]
    pub again: bool,
    #[command(flatten)]
    pub reach: Reach,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: std::net::SocketAddr,
    /// Seed for session fates, balance movements and faults.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How much faster than real time the simulated clock runs.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Fault probabilities, e.g. 429=0.05,500=0.05,timeout=0.02,garbage=0.02;
    /// for webhook deliveries also duplicate=0.1 (sent twice) and
    /// reorder=0.1 (held back so later ones arrive first).
    #[arg(long, default_value = "none")]
    pub faults: String,
    /// POST a signed Cashfree webhook delivery here whenever a Cashfree
    /// session's status changes (e.g. http://127.0.0.1:8788/api/v1/webhooks/cashfree),
    /// retrying until it is acknowledged.
    #[arg(long, value_name = "URL", value_parser = parse_webhook_url)]
    pub cashfree_webhook_url: Option<url::Url>,
    /// Answer 429 past this many requests a (simulated) minute per provider
    /// (at least 1: leave it out for no limit).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: Option<u32>,
    /// Answer Cashfree creates with 422 insufficient_balance (a merchant
    /// whose verification balance ran out).
    #[arg(long)]
    pub cashfree_insufficient_balance: bool,
    /// Demand Cashfree's public-key 2FA: every Cashfree call then needs an
    /// x-cf-signature this private key (PEM) opens, made within 5 minutes,
    /// or gets 403 ip_validation_failed.
    #[arg(long, value_name = "PRIVATE_KEY.pem")]
    pub cashfree_signature_key: Option<std::path::PathBuf>,
    /// Refused with a pointer to `payops --demo`, which runs its own
    /// simulator: hidden, as it is no option of this command.
    #[arg(long, hide = true)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8788")]
    pub addr: std::net::SocketAddr,
    /// API requests a minute any one token may make, in bursts of up to as
    /// many (a runaway script cannot starve the team); past it, 429 with
    /// Retry-After.
    #[arg(long, value_name = "N", default_value_t = 600,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub requests_per_minute: u32,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Serve plain HTTP on a non-loopback address: only behind a proxy that
    /// terminates TLS, since tokens would otherwise cross the network in clear.
    #[arg(long)]
    pub allow_plain_http: bool,
    /// Serve Prometheus metrics on this address, never on the API's
    /// (also [server] metrics_addr, PAYOPS_SERVER_METRICS_ADDR).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Log lines on stderr as `text` (the default) or `json`, one object a
    /// line (also [server] log_format, PAYOPS_SERVER_LOG_FORMAT).
    #[arg(long, value_name = "FORMAT", value_parser = parse_log_format)]
    pub log_format: Option<crate::logging::LogFormat>,
    /// Log to the dated file under the data folder instead of stderr.
    #[arg(long)]
    pub log_file: bool,
    /// Serve the demo: an in-process simulator, seeded sessions, and an
    /// admin token printed to paste.
    #[arg(long, global = true)]
    pub demo: bool,
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Operators' tokens: through the configured server (an admin's token),
    /// or else in the store `serve` uses with the same settings.
    Token(TokenArgs),
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub json: JsonOnly,
    /// The payops server to manage tokens through (as PAYOPS_SERVER_URL,
    /// with an admin's PAYOPS_SERVER_TOKEN). With a server configured,
    /// tokens are only ever managed there.
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token for NAME: printed once, alone on the last line of stdout.
    Add {
        /// Who it is for (letters, digits, '.', '_', '-', '@').
        name: String,
        /// viewer, support, finance or admin.
        #[arg(long, value_parser = parse_role)]
        role: crate::auth::Role,
        /// How long it works: a length (2s, 12h, 90d), a date (2027-03-31),
        /// or never.
        #[arg(long, value_name = "DURATION|DATE|never", default_value = crate::auth::DEFAULT_TOKEN_LIFETIME)]
        expires: String,
    },
    /// Every token: name, role, state, expiry, last use (never the token).
    List,
    /// A new token for NAME with the same role; the old one is refused
    /// after the grace (at once without one).
    Rotate {
        name: String,
        /// How long the old token keeps working, e.g. 1h (a week at most).
        #[arg(long, value_name = "DURATION", default_value = "0")]
        grace: String,
        /// The new token's lifetime, as for `add`; as long as the old one
        /// was made to last when left out.
        #[arg(long, value_name = "DURATION|DATE|never")]
        expires: Option<String>,
    },
    /// Revoke NAME's token: it is refused from the next request on.
    Revoke { name: String },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented template (mode 0600) to the config path.
    Init,
    /// Validate the configuration and report every problem at once.
    Check {
        /// Also make one cheap authenticated call per configured provider
        /// (InstantPay's balance, Cashfree's status of an id nobody uses)
        /// and say which answered, with the fix for each that did not.
        #[arg(long)]
        online: bool,
    },
    /// Print the paths in use.
    Path,
}

fn parse_provider(value: &str) -> Result<Provider, String> {
    value.parse()
}

fn parse_log_format(value: &str) -> Result<crate::logging::LogFormat, String> {
    value.parse()
}

fn parse_role(value: &str) -> Result<crate::auth::Role, String> {
    value.parse()
}

/// `digilocker label ID TEXT|--clear`: the label to set, or None to remove
/// it; an empty text is refused rather than taken as a removal.
pub fn new_label(label: Option<&str>, clear: bool) -> Result<Option<String>, super::Failure> {
    match (label, clear) {
        (_, true) => Ok(None),
        (Some(raw), false) => Ok(Some(crate::validate::label("label", raw)?.ok_or_else(
            || super::Failure::usage("label: is empty; to remove the label, use --clear"),
        )?)),
        (None, false) => Err(super::Failure::usage(
            "label: give the new label, or --clear to remove it",
        )),
    }
}

/// An http or https URL to deliver webhooks to.
fn parse_webhook_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("'{text}' is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("'{text}' must be an http or https URL with a host"));
    }
    Ok(url)
}
