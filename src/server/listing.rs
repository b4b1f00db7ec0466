//! `GET /api/v1/sessions` as JSON, fast for thousands of sessions: each
//! session's JSON is kept with the version of the row it was written from
//! and reused while the row is unchanged. A list then costs one read of ids
//! and versions, the rows that changed since, and copying.
//!
//! The version is counted by the database for every change to a row, by
//! any process or replica (store migration 8), so a kept entry can never
//! outlive what it shows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::wire::SessionView;
use crate::domain::{SessionId, SessionRecord};
use crate::store::{Store, StoreError};

/// Beyond this many sessions, the rest are written afresh each time rather
/// than kept: the memory a server spends on this stays bounded (about
/// 600 bytes a session) however long it runs.
const KEPT_AT_MOST: usize = 20_000;

/// One session's JSON and the row version it was written from.
struct Kept {
    version: i64,
    json: Box<[u8]>,
}

#[derive(Clone)]
pub struct SessionsJson {
    kept: Arc<Mutex<HashMap<SessionId, Kept>>>,
    kept_at_most: usize,
}

impl Default for SessionsJson {
    fn default() -> SessionsJson {
        SessionsJson {
            kept: Arc::default(),
            kept_at_most: KEPT_AT_MOST,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("session {id} could not be written as JSON: {source}")]
    Json {
        id: SessionId,
        source: serde_json::Error,
    },
}

impl SessionsJson {
    /// The JSON array of the sessions `Store::list_sessions(include_final)`
    /// returns, in its order, each as `SessionView` writes it.
    pub fn list(&self, store: &Store, include_final: bool) -> Result<Vec<u8>, ListingError> {
        let listed = store.session_versions(include_final)?;
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let unkept = listed
            .len()
            .min(self.kept_at_most)
            .saturating_sub(kept.len());
        kept.reserve(unkept);
        let stale: Vec<SessionId> = listed
            .iter()
            .filter(|(id, version)| kept.get(id).is_none_or(|k| k.version != *version))
            .map(|(id, _)| id.clone())
            .collect();
        // A row read now may be newer than the version just listed: it is
        // kept under its own version, so the next list reads it again only
        // if it changed once more.
        let mut fresh: HashMap<SessionId, Box<[u8]>> = HashMap::new();
        let mut failed = None;
        let mut scratch = Vec::with_capacity(1024);
        let mut keep = |record: SessionRecord, version: i64| match json_of(&record, &mut scratch) {
            Ok(json) if kept.len() < self.kept_at_most || kept.contains_key(&record.id) => {
                kept.insert(record.id, Kept { version, json });
            }
            Ok(json) => {
                fresh.insert(record.id, json);
            }
            Err(source) => {
                failed.get_or_insert(ListingError::Json {
                    id: record.id,
                    source,
                });
            }
        };
        if stale.len() > listed.len() / 4 {
            // Many rows to read (all of them, for a server's first list):
            // one pass over the list is quicker than a lookup of each.
            store.each_listed_session(include_final, &mut keep)?;
        } else {
            store.sessions_by_id(&stale, &mut keep)?;
        }
        if let Some(error) = failed {
            return Err(error);
        }
        let parts: Vec<&[u8]> = listed
            .iter()
            .filter_map(|(id, version)| {
                // Older than listed only when the second read did not see
                // the row (it was deleted, or left the list's filter, in
                // between): then it is not shown at all, never stale.
                let kept = kept.get(id).filter(|k| k.version >= *version);
                fresh.get(id).or(kept.map(|k| &k.json))
            })
            .map(|json| &json[..])
            .collect();
        let mut body = Vec::with_capacity(2 + parts.iter().map(|p| p.len() + 1).sum::<usize>());
        body.push(b'[');
        for (n, part) in parts.iter().enumerate() {
            if n > 0 {
                body.push(b',');
            }
            body.extend_from_slice(part);
        }
        body.push(b']');
        Ok(body)
    }
}

/// Written into `scratch` first, so each row's JSON is one allocation of
/// exactly its size.
fn json_of(record: &SessionRecord, scratch: &mut Vec<u8>) -> Result<Box<[u8]>, serde_json::Error> {
    scratch.clear();
    serde_json::to_writer(&mut *scratch, &SessionView::of(record, None))?;
    Ok(Box::from(&scratch[..]))
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::domain::{CreatedSession, Provider, SessionStatus};

    fn store_with_sessions(dir: &tempfile::TempDir, count: usize) -> (Store, Vec<SessionId>) {
        let store = Store::open(&dir.path().join("payops.db")).unwrap();
        let ids = (0..count)
            .map(|n| {
                let reference = format!("REF{n}");
                let id = store
                    .track_existing(Provider::Cashfree, &reference, Timestamp::now(), None)
                    .unwrap()
                    .id;
                store
                    .set_label(&id, Some(&format!("TKT-{n}")), None)
                    .unwrap();
                id
            })
            .collect();
        (store, ids)
    }

    fn plain(store: &Store, include_final: bool) -> String {
        let records = store.list_sessions(include_final).unwrap();
        let views: Vec<SessionView> = records.iter().map(|r| SessionView::of(r, None)).collect();
        serde_json::to_string(&views).unwrap()
    }

    fn listed(listing: &SessionsJson, store: &Store, include_final: bool) -> String {
        String::from_utf8(listing.list(store, include_final).unwrap()).unwrap()
    }

    /// Whatever changed, and through whichever connection, the kept list is
    /// byte for byte what writing the records afresh gives.
    #[test]
    fn the_list_is_always_the_records_written_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let (store, ids) = store_with_sessions(&dir, 8);
        let another_process = Store::open(&dir.path().join("payops.db")).unwrap();
        let listing = SessionsJson::default();
        let check = |why: &str| {
            for include_final in [true, false] {
                assert_eq!(
                    listed(&listing, &store, include_final),
                    plain(&store, include_final),
                    "{why}, include_final {include_final}"
                );
            }
        };
        check("nothing kept");
        check("every row kept");
        another_process
            .set_label(&ids[3], Some("TKT-moved"), None)
            .unwrap();
        check("one row relabelled by another connection");
        another_process.set_tracking(&ids[5], false, None).unwrap();
        check("one row no longer tracked");
        for id in &ids[..6] {
            another_process
                .record_poll(
                    None,
                    id,
                    &crate::store::ProviderWord {
                        status: &SessionStatus::Authenticated,
                        provider_status: "AUTHENTICATED",
                        documents_consented: &[],
                        learned: crate::domain::Learned::Poll,
                    },
                    Timestamp::now(),
                )
                .unwrap();
        }
        check("most rows changed");
        assert!(listed(&listing, &store, true).contains("TKT-moved"));
    }

    #[test]
    fn beyond_its_bound_rows_are_written_afresh_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let (store, ids) = store_with_sessions(&dir, 5);
        let listing = SessionsJson {
            kept_at_most: 2,
            ..SessionsJson::default()
        };
        assert_eq!(listed(&listing, &store, true), plain(&store, true));
        store.set_label(&ids[0], Some("TKT-changed"), None).unwrap();
        assert_eq!(listed(&listing, &store, true), plain(&store, true));
        assert_eq!(listing.kept.lock().unwrap().len(), 2);
    }

    /// A session created after the listing kept the others is listed in its place.
    #[test]
    fn a_new_session_appears_in_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = store_with_sessions(&dir, 5);
        let listing = SessionsJson::default();
        listed(&listing, &store, true);
        let id = store
            .track_existing(Provider::InstantPay, "NEW", Timestamp::now(), None)
            .unwrap()
            .id;
        store
            .complete_session(
                &id,
                &CreatedSession {
                    reference: "NEW".into(),
                    url: "https://verification.example/new".into(),
                    status: SessionStatus::Pending,
                    provider_status: "PENDING".into(),
                    documents_requested: Vec::new(),
                    environment: None,
                    request_id: None,
                },
                Timestamp::now(),
                None,
            )
            .unwrap();
        let list = listed(&listing, &store, true);
        assert_eq!(list, plain(&store, true));
        assert!(list.starts_with(&format!("[{{\"id\":\"{id}\"")));
    }
}
