//! The consent signals a page gives to vendors: the IAB TCF v2 TC string (`__tcfapi('getTCData',
//! 2, cb)`) and the IAB GPP string (`__gpp('ping', cb)`, else `getGPPData`). Each call is bounded:
//! a page without the API records nothing, and a stub that never answers cannot hang the trial.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// What the page answered (`None`: no API, no answer within the bound, or an empty string).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct Signals {
    pub(crate) tcf: Option<String>,
    pub(crate) gpp: Option<String>,
}

/// A JS expression evaluating (within about `ms` per call) to `{tcf, gpp}`.
pub(crate) fn script(ms: u64) -> String {
    format!(
        "(async () => {{ \
           const within = (p) => Promise.race([p, new Promise((r) => setTimeout(() => r(null), {ms}))]); \
           const str = (s) => (typeof s === 'string' && s.length > 0 ? s : null); \
           let tcf = null, gpp = null; \
           if (typeof window.__tcfapi === 'function') {{ \
             const d = await within(new Promise((res) => {{ try {{ window.__tcfapi('getTCData', 2, (d, ok) => res(ok ? d : null)); }} catch (e) {{ res(null); }} }})); \
             tcf = str(d && d.tcString); }} \
           if (typeof window.__gpp === 'function') {{ \
             const call = (cmd) => within(new Promise((res) => {{ try {{ \
               const r = window.__gpp(cmd, (d, ok) => res(ok === false ? null : d)); \
               if (r !== undefined && r !== null) res(r); }} catch (e) {{ res(null); }} }})); \
             const ping = await call('ping'); gpp = str(ping && ping.gppString); \
             if (gpp === null) {{ const d = await call('getGPPData'); gpp = str(d && d.gppString); }} }} \
           return {{ tcf, gpp }}; }})()"
    )
}

/// The TC string with its `Created` and `LastUpdated` fields (bits 6..78 of the core segment,
/// deciseconds since the epoch) zeroed, so that the snapshot of a rerun is identical; every other
/// bit (CMP, purposes, vendors) is kept. A string that does not decode is returned unchanged.
pub fn normalise_tc_string(tc: &str) -> String {
    let (core, rest) = match tc.split_once('.') {
        Some((c, r)) => (c, Some(r)),
        None => (tc, None),
    };
    let Ok(mut bytes) = URL_SAFE_NO_PAD.decode(core.trim_end_matches('=')) else {
        return tc.to_string();
    };
    if bytes.len() * 8 < 78 {
        return tc.to_string();
    }
    for bit in 6..78 {
        bytes[bit / 8] &= !(0x80u8 >> (bit % 8));
    }
    let core = URL_SAFE_NO_PAD.encode(bytes);
    match rest {
        Some(r) => format!("{core}.{r}"),
        None => core,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tc_string_timestamps_are_zeroed_and_the_rest_kept() {
        // Version 2, then Created/LastUpdated all ones, then 8 bits of CMP id 0xAB…
        let mut bits = vec![0u8; 16];
        bits[0] = 0b0000_1011; // version 2 (000010) then two timestamp bits set
        for b in bits.iter_mut().take(9).skip(1) {
            *b = 0xFF;
        }
        bits[9] = 0b1111_1100; // bits 72..77 timestamp, 78..79 CMP id
        bits[10] = 0xAB;
        let tc = format!("{}.YAAAAAAA", URL_SAFE_NO_PAD.encode(&bits));
        let out = normalise_tc_string(&tc);
        let (core, rest) = out.split_once('.').unwrap();
        assert_eq!(rest, "YAAAAAAA");
        let got = URL_SAFE_NO_PAD.decode(core).unwrap();
        assert_eq!(got[0], 0b0000_1000, "version kept, timestamp bits cleared");
        assert!(got[1..9].iter().all(|b| *b == 0));
        assert_eq!(got[9], 0);
        assert_eq!(got[10], 0xAB, "later fields kept");
        assert_eq!(normalise_tc_string("not base64!"), "not base64!");
        assert_eq!(normalise_tc_string("QQ"), "QQ", "too short: unchanged");
    }
}
