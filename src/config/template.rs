//! The commented configuration file `config init` writes.

use super::*;

/// A commented template for `payops config init`. Everything is commented
/// out, so it loads as "no providers configured" until filled in.
pub fn template() -> String {
    format!(
        r#"# payops configuration.
#
# Every key can also be set by an environment variable PAYOPS_<SECTION>_<KEY>,
# e.g. PAYOPS_CASHFREE_CLIENT_SECRET; the variable wins over this file.
# A provider is configured when its section (or any of its variables) is
# present; uncomment a whole section to enable it. Keep this file private
# (chmod 600): it holds secrets.

# [instantpay]
# base_url = "{DEFAULT_INSTANTPAY_BASE}"
# client_id = "your-client-id"               # required
# client_secret = "your-client-secret"       # required; never shown, logged or stored
# endpoint_ip = "203.0.113.7"                # required; your public IP (X-Ipay-Endpoint-Ip)
# account_number = "9999999999"              # required; the registered mobile number (10 digits)
# latitude = "28.6139"                       # required; -90 to 90, sent with 4 decimals
# longitude = "77.2090"                      # required; -180 to 180

# [cashfree]
# Sandbox by default; production is https://api.cashfree.com/verification
# base_url = "{DEFAULT_CASHFREE_BASE}"
# client_id = "your-client-id"               # required
# client_secret = "your-client-secret"       # required; never shown, logged or stored
# api_version = "2023-12-18"                 # the default; sent as x-api-version
# Two-factor authentication by public key instead of IP whitelisting: the PEM
# file from the Cashfree dashboard (relative paths: from this file's folder).
# Every call then carries a fresh x-cf-signature.
# public_key_path = "cashfree_public_key.pem"
# On a team server (`payops serve`) that receives Cashfree's webhook at
# /api/v1/webhooks/cashfree: poll Cashfree sessions only as a safety net.
# webhooks = true
# previous_client_secret = "the-old-secret"  # after a rotation, until its retries end
# webhook_tolerance = "5m"                    # replay window for x-webhook-timestamp
# webhook_quiet = "3m"                        # a delivery due this long, none came: poll as usual

[polling]
# session_interval_secs = 5                  # pending DigiLocker sessions (minimum 1)
# balance_interval_secs = 300                # automatic balance refresh (minimum 30)
# requests_per_minute = 60                   # per provider, 1 to 1000
# max_concurrent_polls = 4                   # 1 to 64
# request_timeout_secs = 15                  # one HTTP call, 1 to 120

[dashboard]
# low_balance_threshold = "5000.00"          # no threshold by default
# balance_drop_alert = "50000.00"            # alert on a fall of more than this between readings

[alerts]
# desktop = true                             # desktop notifications besides the bell; off by default

[defaults]
# provider = "cashfree"                      # instantpay or cashfree; none by default
# flow = "signup"                            # signup (default) or signin
# documents = ["aadhaar"]                    # aadhaar (default), pan, driving_license
# redirect_url = "https://example.com/kyc-done"  # https only; none by default

[operator]
# name = "asha"                              # who the audit says sent it; the login name by default

[theme]
# name = "dark"                              # dark (default), light or high-contrast
# Colours per role over the theme: a name (green, light-red, gray), #rrggbb
# or a 0-255 palette index. NO_COLOR / --no-color still turn colour off.
# ok = "green"
# pending = "yellow"
# failed = "red"
# stale = "magenta"
# accent = "blue"
# muted = "gray"

[keys]
# Rebind any dashboard action: one key or a list, e.g. "c", "G", "ctrl-r",
# "enter", "shift-tab", "f5". `payops config check` names conflicts.
# The actions: see `?` in the dashboard, or the README.
# copy_url = "c"
# quit = ["q", "ctrl-q"]
"#
    )
}

/// Writes the template with mode 0600; refuses to overwrite an existing file.
pub fn write_template(path: &Path) -> Result<(), ConfigError> {
    let write_err = |message: String| ConfigError::Write {
        path: path.to_path_buf(),
        message,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| write_err(format!("cannot create folder {}: {e}", parent.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    // create_new: the existence check and the creation are one step, so a
    // file appearing in between is never overwritten.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            write_err("already exists; not overwriting it (edit it, or move it aside first)".into())
        } else {
            write_err(e.to_string())
        }
    })?;
    file.write_all(template().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| write_err(e.to_string()))
}
