//! `cargo test --test specs`: every spec under `specs/` (or `CONSENT_GATES_SPECS`) × state is a
//! trial named `<spec>::<state>`.

fn main() -> std::process::ExitCode {
    consent_gates::runner::harness::main()
}
