//! `consent-gates`: the standalone tool, for repositories that are not Rust projects.
//!
//! - `consent-gates test [SPECS...] [FILTER] [--specs GLOB] [--snapshots DIR] [libtest options]`:
//!   the same harness as `cargo test --test specs`, then the verdict table.
//! - `consent-gates init URL [--serve ORIGIN=DIR]... [--settings FILE] [--offline]
//!   [--library bundled|site] [-o FILE]`: visits a site once and writes a starting spec.
//! - `consent-gates explain SPEC...`: the states and expectations as the tool reads them.
//! - `consent-gates schema`: the JSON Schema of the spec format.

mod explain;
mod init;

use std::process::ExitCode;

use consent_gates::runner::exit;
use consent_gates::runner::harness::{self, Options};
use libtest_mimic::Arguments;

const USAGE: &str = "\
consent-gates: prove that a website's consent gates stop Segment data

usage:
  consent-gates test [SPECS...] [FILTER] [options]
      Runs every spec × state as a trial; SPECS are spec files, folders or globs (default
      $CONSENT_GATES_SPECS, else specs/**/*.yaml); FILTER selects trials by name (shop::reject-all).
      --specs GLOB        spec glob (as CONSENT_GATES_SPECS)
      --snapshots DIR     snapshot folder (default: snapshots/ beside the specs' folder)
      --list, --exact, --skip F, --test-threads N, --color auto|always|never, --quiet: as cargo test
      Writes target/consent-gates/{results.json,junit.xml,report/index.html} (CONSENT_GATES_OUT).
      Exit: 0 passed, 1 a consent check failed, 2 invalid spec, 3 a trial could not run,
      4 only snapshots differ.
  consent-gates init URL [-o FILE] [--serve ORIGIN=DIR]... [--settings FILE] [--offline]
                         [--library bundled|site]
      Visits URL once (no choice made), records what it loads and which destinations the Segment
      settings and the network show (with a recognised CMP, also after accepting everything),
      and writes a starting spec with TODOs (stdout without -o).
  consent-gates explain SPEC...
      Prints each state's steps and effective expectations (with the regime's defaults) and
      where each destination's mode and categories come from.
  consent-gates schema
      Prints the JSON Schema of the spec format (schema/spec.schema.json).
";

fn main() -> ExitCode {
    harness::prepare_env();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let command = if args.is_empty() {
        String::new()
    } else {
        args.remove(0)
    };
    match command.as_str() {
        "test" => test(args),
        "init" => init::main(args),
        "explain" => explain::main(args),
        "schema" => {
            print!("{}", consent_gates::spec::schema::spec_schema_text());
            ExitCode::SUCCESS
        }
        "-h" | "--help" | "help" | "" => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        "-V" | "--version" => {
            println!("consent-gates {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        other => usage_error(&format!("unknown command `{other}`")),
    }
}

/// Prints `message` and the usage on stderr; exit code 2 (as for an invalid spec).
pub fn usage_error(message: &str) -> ExitCode {
    eprintln!("consent-gates: {message}\n\n{USAGE}");
    ExitCode::from(exit::INVALID_SPEC)
}

/// libtest options that take a value in the next argument.
const VALUE_FLAGS: &[&str] = &[
    "--test-threads",
    "--skip",
    "--color",
    "--format",
    "--logfile",
    "-Z",
];

/// Whether a positional argument of `test` names specs rather than a trial filter: an existing
/// file or folder, a glob, or a `.yaml`/`.yml` path. Trial names (`shop::reject-all`) are none of
/// these.
fn is_spec_arg(arg: &str) -> bool {
    let path = std::path::Path::new(arg);
    path.exists()
        || arg.contains(['*', '?', '['])
        || arg.ends_with(".yaml")
        || arg.ends_with(".yml")
}

/// A spec argument as a glob: a folder stands for every spec below it.
fn spec_glob(arg: &str) -> String {
    let path = std::path::Path::new(arg);
    if path.is_dir() {
        format!("{}/**/*.yaml", arg.trim_end_matches('/'))
    } else {
        arg.to_string()
    }
}

fn test(args: Vec<String>) -> ExitCode {
    let mut options = Options::from_env();
    options.table = true;
    let mut rest = vec!["consent-gates".to_string()];
    let mut specs: Vec<String> = Vec::new();
    let mut filters: Vec<String> = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--specs" | "--snapshots" => {
                let Some(value) = it.next() else {
                    return usage_error(&format!("{a} needs a value"));
                };
                if a == "--specs" {
                    specs.push(value);
                } else {
                    options.snapshots = Some(value.into());
                }
            }
            flag if VALUE_FLAGS.contains(&flag) => {
                rest.push(a);
                if let Some(value) = it.next() {
                    rest.push(value);
                }
            }
            flag if flag.starts_with('-') => rest.push(a),
            positional if is_spec_arg(positional) => specs.push(spec_glob(positional)),
            _ => filters.push(a),
        }
    }
    if filters.len() > 1 {
        return usage_error(&format!(
            "one trial filter at a time (got {}); use --skip to leave trials out",
            filters.join(", ")
        ));
    }
    rest.extend(filters);
    if !specs.is_empty() {
        options.specs = harness::join_patterns(&specs);
    }
    let mut args = Arguments::from_iter(rest);
    if args.color.is_none() {
        args.color = consent_gates::output::report::color::from_cargo_env();
    }
    let summary = harness::run(&args, &options);
    exit::code(&summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_specs_are_told_from_filters() {
        assert!(is_spec_arg("specs/shop.yaml"));
        assert!(is_spec_arg("consent/**/*.yml"));
        assert!(is_spec_arg("src"));
        assert!(!is_spec_arg("shop::reject-all"));
        assert!(!is_spec_arg("reject-all"));
        assert_eq!(spec_glob("specs/"), "specs/**/*.yaml");
    }
}
