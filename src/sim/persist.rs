//! Optional persistence of the simulator's story between runs. The CLI's
//! `--demo` starts a new simulator for every command, so a session created by
//! one command must still be known, and still ageing, for the next.

use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What survives a restart. Fates, customers and the wallet's walk are derived
/// from the seed, so only what requests changed is kept, plus the clock's origin.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Saved {
    /// Wall-clock start of the simulated clock, so sessions keep ageing across runs.
    pub origin: Option<Timestamp>,
    #[serde(default)]
    pub instantpay: Vec<SavedInstantPay>,
    #[serde(default)]
    pub cashfree: Vec<SavedCashfree>,
    /// Notifications sent per link id.
    #[serde(default)]
    pub notifications: Vec<(String, u64)>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SavedInstantPay {
    pub reference_id: String,
    pub external_ref: String,
    pub created_at: f64,
    pub forced: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SavedCashfree {
    pub verification_id: String,
    pub reference_id: i64,
    pub documents: Vec<String>,
    pub created_at: f64,
    pub forced: Option<String>,
}

/// Reads the saved state; a missing or unreadable file starts a fresh story
/// (the simulator is a test double: losing its memory must not stop it).
pub(crate) fn load(path: &Path) -> Saved {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Writes atomically (temp file, then rename) so a crash never leaves half a file.
pub(crate) fn save(path: &Path, saved: &Saved) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(saved).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}
