//! The face: specs → libtest-mimic trials, one shared browser, results written at the end.
//!
//! Used by `tests/specs.rs` (`cargo test`, `cargo nextest run`) and by the `consent-gates` binary.
//!
//! A run prints its progress on stderr (`[3/12] shop::reject-all`, off with `--quiet` or
//! `CONSENT_GATES_PROGRESS=0`), coloured after `--color` / `CARGO_TERM_COLOR`, and leaves
//! `results.json`, `junit.xml`, `report/index.html` and traces of failing trials in
//! [`crate::paths::output_dir`] (see [`report`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use libtest_mimic::{Arguments, Failed, Trial};

use crate::browser::session::Shared;
use crate::outcome::{CheckId, Failure, TrialResult};
use crate::output::report;
use crate::runner::trial::EvidenceOptions;
use crate::runner::{exit, trial};
use crate::spec::{self, Spec, SpecError};

/// Default spec glob, relative to the working directory.
pub(crate) const DEFAULT_SPECS: &str = "specs/**/*.yaml";

/// Where specs and snapshots are, and what to print.
#[derive(Debug, Clone)]
pub struct Options {
    /// Glob of spec files; several globs are separated like `PATH` entries (`:` on Unix), see
    /// [`spec_patterns`].
    pub specs: String,
    /// Snapshot folder; `None`: `snapshots/` beside the specs' folder.
    pub snapshots: Option<PathBuf>,
    /// Print the verdict table after the run.
    pub table: bool,
    /// Where `results.json` goes; `None`: [`crate::paths::output_dir`].
    pub out: Option<PathBuf>,
}

impl Options {
    /// From `CONSENT_GATES_SPECS` and `CONSENT_GATES_SNAPSHOTS`.
    pub fn from_env() -> Self {
        Options {
            specs: std::env::var("CONSENT_GATES_SPECS").unwrap_or_else(|_| DEFAULT_SPECS.into()),
            snapshots: std::env::var_os("CONSENT_GATES_SNAPSHOTS").map(PathBuf::from),
            table: std::env::var_os("CONSENT_GATES_TABLE").is_some(),
            out: None,
        }
    }
}

/// What a run produced.
pub struct Summary {
    pub results: Vec<TrialResult>,
    pub conclusion: libtest_mimic::Conclusion,
}

impl Summary {
    /// The process exit code for this run ([`exit`]).
    pub fn exit_code(&self) -> std::process::ExitCode {
        exit::code(&self.results, self.conclusion.has_failed())
    }
}

/// Entry point of `tests/specs.rs`: `cargo test` arguments, options from the environment.
pub fn main() -> std::process::ExitCode {
    prepare_env();
    // nextest runs every trial in its own process: they share one browser server.
    crate::browser::server::share_under_nextest();
    let mut args = Arguments::from_args();
    if args.color.is_none() {
        args.color = report::color::from_cargo_env();
    }
    let summary = run(&args, &Options::from_env());
    summary.exit_code()
}

/// Sets up the process environment; call first thing in `main`, before any thread starts.
///
/// - Points playwright-rs at the set-up script's driver folder when nothing else did (a test
///   binary run by hand does not get `.cargo/config.toml`'s `[env]`).
/// - Sets `INSTA_FORCE_PASS=1` unless given: a differing snapshot is then not a panic inside
///   insta, which would print "Stopped on the first failure. Run `cargo insta test`" after every
///   such trial although the run goes on (its status is read from insta's comparison, see
///   [`crate::output::snapshot::compare`]; the trial still fails).
pub fn prepare_env() {
    if std::env::var_os("PLAYWRIGHT_DRIVER_PATH").is_none()
        && let Some(dir) = crate::browser::chromium::default_driver_dir()
    {
        // SAFETY: called at the start of `main`, before this process starts any other thread, so
        // no concurrent reader of the environment exists.
        unsafe { std::env::set_var("PLAYWRIGHT_DRIVER_PATH", dir) };
    }
    if std::env::var_os("INSTA_FORCE_PASS").is_none() {
        // SAFETY: as above.
        unsafe { std::env::set_var("INSTA_FORCE_PASS", "1") };
    }
}

/// The globs in `specs`: one, or several separated like `PATH` entries (`:` on Unix, `;` on
/// Windows): `specs/**/*.yaml:consent/live-*.yaml`.
pub(crate) fn spec_patterns(specs: &str) -> Vec<String> {
    std::env::split_paths(specs)
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Joins spec globs into one [`Options::specs`] value (the inverse of [`spec_patterns`]).
pub fn join_patterns<S: AsRef<str>>(patterns: &[S]) -> String {
    std::env::join_paths(patterns.iter().map(|p| p.as_ref()))
        .map(|j| j.to_string_lossy().into_owned())
        .unwrap_or_else(|_| {
            patterns
                .first()
                .map(|p| p.as_ref().to_string())
                .unwrap_or_default()
        })
}

/// Loads every spec matching `options.specs`; a spec that does not parse is kept as its error.
pub(crate) fn discover(pattern: &str) -> Vec<(PathBuf, Result<Spec, SpecError>)> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for pattern in spec_patterns(pattern) {
        match glob::glob(&pattern) {
            Ok(found) => paths.extend(found.filter_map(Result::ok)),
            Err(e) => eprintln!("consent-gates: invalid spec glob {pattern:?}: {e}"),
        }
    }
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .map(|p| {
            let loaded = spec::load(&p);
            (p, loaded)
        })
        .collect()
}

/// The snapshot folder for specs found by `pattern`: `snapshots/` beside the folder the glob
/// starts in (`specs/**/*.yaml` → `./snapshots`).
pub(crate) fn snapshot_dir(pattern: &str, explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    let first = spec_patterns(pattern)
        .into_iter()
        .next()
        .unwrap_or_default();
    let base: PathBuf = Path::new(&first)
        .components()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        .collect();
    let base = if base.extension().is_some() {
        base.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        base
    };
    match base.parent() {
        Some(parent) => parent.join("snapshots"),
        None => PathBuf::from("snapshots"),
    }
}

/// One trial to run: its name (`<spec>::<state>`, or `<spec>::spec` for a spec that does not
/// parse) and the work that judges it.
pub(crate) struct Job {
    pub(crate) name: String,
    work: Box<dyn FnOnce() -> TrialResult + Send>,
}

impl Job {
    pub(crate) fn run(self) -> TrialResult {
        (self.work)()
    }
}

/// Every trial of the specs `options.specs` finds, in spec-file then state order, collecting the
/// report's evidence and traces of failures ([`EvidenceOptions::full`]).
pub(crate) fn jobs(options: &Options) -> Vec<Job> {
    let out = options.out.clone().unwrap_or_else(crate::paths::output_dir);
    jobs_with(options, EvidenceOptions::full(&out))
}

/// [`jobs`] collecting the evidence `evidence` asks for.
pub(crate) fn jobs_with(options: &Options, evidence: EvidenceOptions) -> Vec<Job> {
    let evidence = Arc::new(evidence);
    let specs = discover(&options.specs);
    let snapshots = Arc::new(snapshot_dir(&options.specs, options.snapshots.as_deref()));
    let offline_only = specs
        .iter()
        .all(|(_, s)| s.as_ref().map_or(true, |s| s.site.offline));
    let mut jobs = Vec::new();
    for (path, loaded) in specs {
        match loaded {
            Ok(spec) => {
                let spec = Arc::new(spec);
                let prepared = Arc::new(trial::Prepared::default());
                for state in spec.states.keys() {
                    let (spec, prepared, state, snapshots, evidence) = (
                        spec.clone(),
                        prepared.clone(),
                        state.clone(),
                        snapshots.clone(),
                        evidence.clone(),
                    );
                    jobs.push(Job {
                        name: format!("{}::{}", spec.name, state),
                        work: Box::new(move || {
                            trial::run_prepared(
                                Shared::get(offline_only),
                                &spec,
                                &prepared,
                                &state,
                                &snapshots,
                                &evidence,
                            )
                        }),
                    });
                }
            }
            Err(e) => {
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string());
                jobs.push(Job {
                    name: format!("{name}::spec"),
                    work: Box::new(move || {
                        let failure = Failure {
                            check: CheckId::InvalidSpec,
                            destination: None,
                            message: e.to_string(),
                            evidence: Vec::new(),
                        };
                        TrialResult::new(name, "spec", vec![failure])
                    }),
                });
            }
        }
    }
    jobs
}

/// Runs the trials whose name `select` accepts on `threads` threads and returns their results,
/// printing nothing and writing nothing but snapshots (no report evidence, no traces): for
/// embedding the engine (and for the tool's own tests).
pub fn judge(options: &Options, select: impl Fn(&str) -> bool, threads: usize) -> Vec<TrialResult> {
    let selected: Vec<Job> = jobs_with(options, EvidenceOptions::default())
        .into_iter()
        .filter(|j| select(&j.name))
        .collect();
    let queue = Mutex::new(selected.into_iter());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some(job) = next else { break };
                    push(&results, job.run());
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Builds the trials, runs them (progress on stderr), writes `results.json`, `junit.xml` and the
/// HTML report, prints the table when asked.
pub fn run(args: &Arguments, options: &Options) -> Summary {
    let results: Arc<Mutex<Vec<TrialResult>>> = Arc::default();
    let started = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let progress = !args.list
        && !args.quiet
        && std::env::var("CONSENT_GATES_PROGRESS").map_or(true, |v| v != "0");
    let paint = report::color::Paint(report::color::stderr(args.color));
    let trials: Vec<Trial> = jobs(options)
        .into_iter()
        .map(|job| {
            let results = results.clone();
            let (started, total) = (started.clone(), total.clone());
            Trial::test(job.name.clone(), move || {
                if progress {
                    let n = started.fetch_add(1, Ordering::SeqCst) + 1;
                    let of = total.load(Ordering::SeqCst);
                    eprintln!("{} {}", paint.dim(&format!("[{n}/{of}]")), job.name);
                }
                let result = job.run();
                let outcome = outcome_of(&result);
                push(&results, result);
                outcome
            })
        })
        .collect();
    total.store(
        trials
            .iter()
            .filter(|t| !args.is_filtered_out(t) && !args.is_ignored(t))
            .count(),
        Ordering::SeqCst,
    );
    let conclusion = libtest_mimic::run(args, trials);
    let results = std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()));
    if !args.list && !results.is_empty() {
        let out = options.out.clone().unwrap_or_else(crate::paths::output_dir);
        match report::write_run(&out, &results) {
            Ok(w) => eprintln!(
                "consent-gates: results in {}, report in {}, JUnit in {}",
                w.results.display(),
                w.html.display(),
                w.junit.display()
            ),
            Err(e) => eprintln!("consent-gates: cannot write the results: {e}"),
        }
    }
    if options.table && !args.list {
        print!(
            "{}",
            report::verdict_table_colored(&results, report::color::stdout(args.color))
        );
    }
    Summary {
        results,
        conclusion,
    }
}

fn push(results: &Mutex<Vec<TrialResult>>, result: TrialResult) {
    results
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(result);
}

/// libtest's view of a trial: passes only when the verdict passes and the snapshot matches.
fn outcome_of(result: &TrialResult) -> Result<(), Failed> {
    if result.is_clean() {
        Ok(())
    } else {
        Err(Failed::from(result.to_string()))
    }
}
