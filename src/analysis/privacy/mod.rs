//! Personal data, in one place: [`detect`] says what counts (emails, phone numbers, the spec's
//! declared fields) for the `pii-leak` check, and [`redact`] removes the same values, and
//! secrets, from every artefact a trial leaves. [`percent_decode`] is the crate's one `%XX`
//! decoder.

mod decode;
pub(crate) mod detect;
pub mod redact;

pub use decode::{percent_decode, percent_decode_strict, percent_encode};
pub use detect::{Finding, Kind, Scanner};
pub use redact::{Redactor, trace_file};
