//! Any request (method, URL, body) through the classifier and the decoder: no panic, bounded work.
//! Input layout: first line the method, second the URL, the rest the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

use consent_gates::capture::{Answer, Capture, CapturedRequest, Phase};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let method = parts.next().unwrap_or("POST").to_string();
    let url = parts
        .next()
        .unwrap_or("https://api.segment.io/v1/t")
        .to_string();
    let body = parts.next().map(|b| b.as_bytes().to_vec());
    let req = CapturedRequest {
        seq: 0,
        at_ms: 0,
        phase: Phase::Before,
        method,
        url,
        resource_type: "fetch".into(),
        headers: Default::default(),
        body,
        answer: Answer::Sinkhole,
    };
    let _ = consent_gates::analysis::segment::classify(&req);
    let capture = Capture {
        requests: vec![req],
        ..Capture::default()
    };
    let decoded = consent_gates::analysis::segment::decode(&capture);
    let _ = consent_gates::analysis::redact::Redactor::for_trial(&capture, &decoded);
});
