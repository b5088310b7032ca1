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

use clap::{Parser, Subcommand};
use consent_gates::runner::exit;
use consent_gates::runner::harness::{self, Options};
use libtest_mimic::{Arguments, ColorSetting, FormatSetting};

/// Prove that a website's consent gates stop Segment data.
#[derive(Debug, Parser)]
#[command(
    name = "consent-gates",
    version,
    arg_required_else_help = true,
    after_help = "Examples:\n  \
        consent-gates test specs/shop.yaml shop::reject-all --exact\n  \
        consent-gates init https://shop.example/ -o specs/shop.yaml\n  \
        consent-gates explain specs/shop.yaml\n  \
        consent-gates schema > schema/spec.schema.json\n\n\
        `consent-gates help COMMAND` (or COMMAND --help) describes each command."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Test(TestArgs),
    Init(init::Args),
    Explain(explain::Args),
    /// Print the JSON Schema of the spec format (schema/spec.schema.json).
    Schema,
}

/// Run every spec × state as a trial (the harness of `cargo test --test specs`), then print the
/// verdict table.
///
/// Writes results.json, junit.xml and report/index.html to target/consent-gates/
/// ($CONSENT_GATES_OUT). Exit code: 0 all passed, 1 a consent check failed, 2 a spec is invalid,
/// 3 a trial could not run, 4 only snapshots differ.
#[derive(Debug, clap::Args)]
#[command(override_usage = "consent-gates test [OPTIONS] [SPECS]... [FILTER]")]
struct TestArgs {
    /// SPECS: spec files, folders (every .yaml below) or globs; default $CONSENT_GATES_SPECS,
    /// else specs/**/*.yaml. FILTER: runs only the trials whose name (`<spec>::<state>`,
    /// e.g. shop::reject-all) contains it; with --exact, the trial of exactly that name. An
    /// argument is a spec when it exists, holds `*`, `?` or `[`, or ends in .yaml/.yml;
    /// otherwise it is the filter (one at most).
    #[arg(value_name = "SPECS|FILTER")]
    args: Vec<String>,
    /// A spec glob (repeatable), as $CONSENT_GATES_SPECS.
    #[arg(long = "specs", value_name = "GLOB")]
    specs: Vec<String>,
    /// Snapshot folder [default: snapshots/ beside the specs' folder].
    #[arg(long, value_name = "DIR")]
    snapshots: Option<std::path::PathBuf>,
    /// List the trials without running them.
    #[arg(long)]
    list: bool,
    /// FILTER must match a trial's whole name.
    #[arg(long)]
    exact: bool,
    /// Leave out the trials whose name contains NAME (repeatable).
    #[arg(long, value_name = "NAME")]
    skip: Vec<String>,
    /// Trials run at once [default: one per CPU].
    #[arg(long, value_name = "N")]
    test_threads: Option<usize>,
    /// Colour: auto, always or never [default: $CARGO_TERM_COLOR, else auto].
    #[arg(long, value_name = "WHEN")]
    color: Option<ColorSetting>,
    /// No progress lines; one character per trial.
    #[arg(short, long)]
    quiet: bool,
    /// libtest's output format: pretty, terse or json.
    #[arg(long, value_name = "FORMAT")]
    format: Option<FormatSetting>,
    /// Write libtest's output to PATH instead of stdout.
    #[arg(long, value_name = "PATH")]
    logfile: Option<String>,
    /// Run only the ignored trials.
    #[arg(long)]
    ignored: bool,
    /// Run the ignored trials too.
    #[arg(long)]
    include_ignored: bool,
    /// Accepted for cargo test compatibility; output is never captured.
    #[arg(long, hide = true)]
    nocapture: bool,
}

fn main() -> ExitCode {
    harness::prepare_env();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are answers; anything else is a usage error (as an invalid spec).
            return if e.use_stderr() {
                ExitCode::from(exit::INVALID_SPEC)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Test(args) => test(args),
        Command::Init(args) => init::main(args),
        Command::Explain(args) => explain::main(args),
        Command::Schema => {
            print!("{}", consent_gates::spec::schema::spec_schema_text());
            ExitCode::SUCCESS
        }
    }
}

/// Prints a usage error naming what is wrong, as clap does; exit code 2 (as for an invalid spec).
fn usage_error(message: &str) -> ExitCode {
    let mut command = <Cli as clap::CommandFactory>::command();
    let _ = command.find_subcommand_mut("test").map(|c| {
        c.error(clap::error::ErrorKind::ArgumentConflict, message)
            .print()
    });
    ExitCode::from(exit::INVALID_SPEC)
}

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

fn test(t: TestArgs) -> ExitCode {
    let mut options = Options::from_env();
    options.table = true;
    options.snapshots = t.snapshots.or(options.snapshots);
    let mut specs = t.specs;
    let mut filters: Vec<String> = Vec::new();
    for a in t.args {
        if is_spec_arg(&a) {
            specs.push(spec_glob(&a));
        } else {
            filters.push(a);
        }
    }
    if filters.len() > 1 {
        return usage_error(&format!(
            "one trial filter at a time (got {}); use --skip to leave trials out, or check that \
             the spec files exist",
            filters.join(", ")
        ));
    }
    if !specs.is_empty() {
        options.specs = harness::join_patterns(&specs);
    }
    let args = Arguments {
        filter: filters.pop(),
        list: t.list,
        exact: t.exact,
        skip: t.skip,
        test_threads: t.test_threads,
        color: t
            .color
            .or_else(consent_gates::output::report::color::from_cargo_env),
        quiet: t.quiet,
        format: t.format,
        logfile: t.logfile,
        ignored: t.ignored,
        include_ignored: t.include_ignored,
        nocapture: t.nocapture,
        ..Arguments::default()
    };
    let summary = harness::run(&args, &options);
    summary.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

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
