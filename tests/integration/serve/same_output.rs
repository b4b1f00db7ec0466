//! Solo and team mode print alike: the same command on the same store,
//! once here and once through `payops serve`, gives the same text and the
//! same JSON (one formatter, fed by the same types).

use super::*;

use super::clients::client;

/// Solo mode's answer and the team client's, to the same command.
async fn both(
    harness: &Harness,
    team: &[(String, String)],
    args: &[&'static str],
) -> (crate::harness::cli::Run, crate::harness::cli::Run) {
    let solo = harness.run(args).await;
    let team = team.to_vec();
    let args = args.to_vec();
    let remote = tokio::task::spawn_blocking(move || client(&team, &args))
        .await
        .unwrap();
    (solo, remote)
}

/// The lines of `text` but those naming `skip` (a fetch's own time and id).
fn lines_but<'a>(text: &'a str, skip: &[&str]) -> Vec<&'a str> {
    text.lines()
        .filter(|line| !skip.iter().any(|s| line.trim_start().starts_with(s)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_the_same_solo_and_through_a_server() {
    let harness = Harness::start(1.0).await;
    let token = add_token(&harness, "farid", "admin").await;
    let server = start_server(&harness);
    let laptop = tempfile::tempdir().unwrap();
    let team = super::clients::client_env(&server.base, &token, laptop.path());

    // A session that ends authenticated (its user details masked), and a notify.
    let created = harness.create_cashfree().await;
    let id: &'static str = created["id"].as_str().unwrap().to_string().leak();
    let reference = created["reference"].as_str().unwrap();
    assert!(
        harness
            .sim
            .force_session_status(reference, payops::domain::SessionStatus::Authenticated)
    );
    harness
        .run(&["digilocker", "status", id])
        .await
        .assert_code(0);
    harness
        .run(&["notify", crate::harness::cli::SAMPLE_LINK, "--yes"])
        .await
        .assert_code(0);

    // A balance is fetched afresh each time: all but its time and id match.
    let (solo, remote) = both(&harness, &team, &["balance"]).await;
    assert!(
        solo.stdout.contains("₹") && solo.stdout.contains("******"),
        "{}",
        solo.stdout
    );
    assert_eq!(
        lines_but(&solo.stdout, &["fetched", "ipay_uuid"]),
        lines_but(&remote.stdout, &["fetched", "ipay_uuid"]),
    );

    // Tracking what is tracked: the same row, said the same way.
    let reference: &'static str = reference.to_string().leak();
    let (solo, remote) = both(
        &harness,
        &team,
        &["digilocker", "track", "--provider", "cashfree", reference],
    )
    .await;
    let said = format!("{reference} was already tracked, as {id}");
    assert!(solo.stderr.contains(&said), "{}", solo.stderr);
    assert!(remote.stderr.contains(&said), "{}", remote.stderr);
    assert_eq!(solo.stdout, remote.stdout);

    for args in [
        &["digilocker", "list", "--all"][..],
        &["digilocker", "list", "--all", "--json"],
        &["digilocker", "status", id],
        &["digilocker", "label", id, "TKT-9"],
        &["audit"],
        &["audit", "--json"],
        &["link", crate::harness::cli::SAMPLE_LINK],
        &["link", crate::harness::cli::SAMPLE_LINK, "--json"],
        &["balance", "--history"],
        &["balance", "--history", "--csv"],
    ] {
        let (solo, remote) = both(&harness, &team, args).await;
        solo.assert_code(0);
        remote.assert_code(0);
        if args.contains(&"--json") {
            // The provider's request id is each lookup's own.
            let without_request_id = |mut json: Value| {
                if let Some(object) = json.as_object_mut() {
                    object.remove("request_id");
                }
                json
            };
            assert_eq!(
                without_request_id(solo.json()),
                without_request_id(remote.json()),
                "{args:?}"
            );
        } else {
            assert_eq!(solo.stdout, remote.stdout, "{args:?}");
        }
    }
}
