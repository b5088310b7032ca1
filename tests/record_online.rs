//! Online mode against a local sink: whatever the page sends over every channel — fetch,
//! sendBeacon, an image, a redirect, a shared worker's fetch, beacons of a real unload — reaches
//! the sink through the real network, and every request the sink received is in the trial's
//! recording. The sink's own log is the witness; nothing here leaves the machine (127.0.0.1).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consent_gates::browser::edge;
use consent_gates::browser::session::{self, Shared};

const PAGE: &str = r#"<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>
<body><h1>sink</h1><script>
fetch('/sink/fetch', { method: 'POST', body: 'f' });
navigator.sendBeacon('/sink/beacon', 'b');
new Image().src = '/sink/image';
fetch('/redirect');
const w = new SharedWorker('/worker.js');
w.port.start();
w.port.postMessage('go');
window.addEventListener('pagehide', (e) => {
  if (e.isTrusted) navigator.sendBeacon('/sink/unload', 'u');
});
</script></body></html>"#;

const WORKER: &str = "onconnect = (e) => { e.ports[0].onmessage = () => \
    fetch('/sink/worker', { method: 'POST', body: 'w' }); };";

/// Serves the page and the worker, redirects `/redirect`, answers the rest with 204; logs
/// `METHOD path` of every request.
fn start_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let l = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let l = l.clone();
            std::thread::spawn(move || serve(stream, &l));
        }
    });
    (port, log)
}

fn serve(mut stream: TcpStream, log: &Mutex<Vec<String>>) {
    let mut buf = [0u8; 16384];
    let Ok(n) = stream.read(&mut buf) else { return };
    // A connection that closes without a request (Chromium preconnects speculatively) carried
    // nothing: it is not a request the recorder could have missed.
    if n == 0 {
        return;
    }
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    let mut words = head.split_whitespace();
    let (method, path) = (
        words.next().unwrap_or("").to_string(),
        words.next().unwrap_or("/").to_string(),
    );
    log.lock().unwrap().push(format!("{method} {path}"));
    let (status, ctype, body, extra) = match path.as_str() {
        "/" => ("200 OK", "text/html", PAGE, String::new()),
        "/worker.js" => ("200 OK", "text/javascript", WORKER, String::new()),
        "/redirect" => (
            "302 Found",
            "text/plain",
            "",
            "location: /sink/redirected\r\n".to_string(),
        ),
        _ => ("204 No Content", "text/plain", "", String::new()),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n{extra}\
         cache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

#[test]
fn online_nothing_reaches_a_local_sink_unrecorded() {
    let (port, log) = start_sink();
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(tmp.path().join(".git")).unwrap();
    let path = tmp.path().join("sink.yaml");
    std::fs::write(
        &path,
        format!(
            "site: {{url: 'http://127.0.0.1:{port}/', offline: false}}\n\
             regime: none\nstates:\n  s:\n    expect: {{collection: any}}\n"
        ),
    )
    .unwrap();
    let spec = consent_gates::spec::load(&path).unwrap_or_else(|e| panic!("{e:?}"));
    let shared = Shared::get(false);
    let browser = shared.browser().expect("browser");
    let config = edge::EdgeConfig::from_spec(&spec, None).expect("edge config");
    let visit = shared
        .runtime()
        .block_on(async {
            tokio::time::timeout(
                Duration::from_secs(90),
                session::visit(
                    &browser,
                    &spec,
                    spec.states.get("s").expect("state"),
                    Arc::new(config),
                ),
            )
            .await
        })
        .expect("the visit is bounded")
        .unwrap_or_else(|e| panic!("{e}"));
    let received = log.lock().unwrap().clone();
    for channel in [
        "POST /sink/fetch",
        "POST /sink/beacon",
        "GET /sink/image",
        "GET /sink/redirected",
        "POST /sink/worker",
        "POST /sink/unload",
    ] {
        assert!(
            received.iter().any(|r| r == channel),
            "the page used {channel}: the sink got {received:?}"
        );
    }
    let recorded: Vec<String> = visit
        .capture
        .requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    for r in &received {
        assert!(
            recorded.contains(r),
            "{r} reached the sink unrecorded; recorded: {recorded:?}"
        );
    }
    assert!(
        visit.capture.unrecorded.is_empty(),
        "{:?}",
        visit.capture.unrecorded
    );
}
