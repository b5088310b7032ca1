//! The completeness check: a connection the browser reports and the recorder never saw makes the
//! trial an error (`unrecorded-traffic`) naming its URL and sender. Proved with the recorder told
//! to ignore WebSockets (a process-wide setting, hence its own test binary): the page's own report
//! of its sockets still names the chat socket.

mod common;

use consent_gates::outcome::{CheckId, Verdict};

#[test]
fn a_channel_the_recorder_ignores_is_unrecorded_traffic() {
    // SAFETY: set before any trial starts; this binary has no other test reading it.
    unsafe { std::env::set_var("CONSENT_GATES_RECORDER_IGNORE", "websocket") };
    let (results, _tmp) = common::judge("tests/fixtures/sockets/specs/sockets-leaky.yaml", |n| {
        n == "sockets-leaky::reject-all"
    });
    let r = common::result(&results, "sockets-leaky::reject-all");
    assert_eq!(r.verdict, Verdict::Error, "{r:#?}");
    let f = r
        .failures
        .iter()
        .find(|f| f.check == CheckId::UnrecordedTraffic)
        .unwrap_or_else(|| panic!("unrecorded-traffic fires: {r:#?}"));
    assert!(
        f.message.contains(
            "GET wss://chat.example.net/socket?site=sockets (from a WebSocket the page opened)"
        ),
        "names URL and sender: {}",
        f.message
    );
    assert_eq!(
        f.evidence.len(),
        1,
        "only the socket is unaccounted: {f:#?}"
    );
}
