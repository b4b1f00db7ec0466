//! What every provider call shares: timeouts and the retry policy.

use std::time::Duration;

/// Timeouts and retry limits for provider calls.
#[derive(Debug, Clone, PartialEq)]
pub struct CallPolicy {
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt, for reads and polls.
    pub max_retries: usize,
    /// First backoff delay (jittered, doubling).
    pub base_delay: Duration,
    /// Cap of one backoff delay, and of an honoured Retry-After.
    pub max_delay: Duration,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_retries: 3,
            base_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(10),
        }
    }
}
