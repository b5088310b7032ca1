//! `consent-gates test [--specs GLOB] [--snapshots DIR] [FILTER…] [libtest options…]`: runs the
//! same harness as `cargo test --test specs`, then prints the verdict table.

use std::process::ExitCode;

use consent_gates::harness::{self, Options};
use libtest_mimic::Arguments;

const USAGE: &str = "usage: consent-gates test [--specs GLOB] [--snapshots DIR] [FILTER...] [--list] [--test-threads N] ...";

fn main() -> ExitCode {
    harness::prepare_env();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => {
            args.remove(0);
        }
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("consent-gates: unknown command `{other}`\n{USAGE}");
            return ExitCode::from(consent_gates::exit::INVALID_SPEC);
        }
    }
    let mut options = Options::from_env();
    options.table = true;
    let mut rest = vec!["consent-gates".to_string()];
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--specs" | "--snapshots" => {
                let Some(value) = it.next() else {
                    eprintln!("consent-gates: {a} needs a value\n{USAGE}");
                    return ExitCode::from(consent_gates::exit::INVALID_SPEC);
                };
                if a == "--specs" {
                    options.specs = value;
                } else {
                    options.snapshots = Some(value.into());
                }
            }
            _ => rest.push(a),
        }
    }
    let args = Arguments::from_iter(rest);
    let summary = harness::run(&args, &options);
    consent_gates::exit::code(&summary)
}
