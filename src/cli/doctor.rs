//! `pookie doctor` (what the plan needs of this host, each failure with its fix), the same
//! checks as `pookie run`'s preflight, and `pookie setup qemu`.

use super::{EXIT_BAD_INPUT, EXIT_FAILURE, Failure, ProjectArgs};
use crate::binfmt::{self, Registered};
use crate::config::{self, Settings};
use crate::doctor::{self, Level};
use crate::engine::Engine;
use crate::matrix;
use crate::plan::{self, Plan};
use crate::target::Arch;

pub fn run(project: &ProjectArgs, args: &[String]) -> Result<(), Failure> {
    let settings = config::load(&project.overrides(), args)?;
    // The index may be the very thing missing: the python-source check says why; plan without it
    // when the versions are named, else check the host without a plan.
    let (index, index_state) = match super::project::python_index(&settings) {
        Ok(index) => (index, Ok(())),
        Err(e) => (None, Err(e.to_string())),
    };
    let plan = match matrix::resolve(&settings, index.as_ref()) {
        Ok(matrix) => plan::plan(&settings, &matrix, index.as_ref().map(|i| i.release.as_str())),
        Err(_) => Plan { graph: Default::default(), release: None, warnings: vec![], machine: None },
    };
    let engine = Engine::detect(settings.engine).map_err(|e| e.to_string());
    let checks = doctor::checks_with_trial(
        &settings,
        &plan,
        index_state.as_ref().map(|_| ()).map_err(String::as_str),
        engine.as_ref().map_err(Clone::clone),
    );
    let jobs = plan.jobs().count();
    println!("pookie doctor: what the plan of {} ({jobs} jobs) needs of this host", settings.workspace.display());
    print!("{}", doctor::render(&checks));
    let failed = doctor::failed(&checks).len();
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::msg(EXIT_FAILURE, format!("{failed} check(s) failed; each says its fix above")))
    }
}

/// `pookie run`'s preflight: stops before anything starts when the host lacks what the plan
/// needs, with the messages `pookie doctor` prints. Warnings are shown and do not stop.
pub fn preflight(settings: &Settings, plan: &Plan, engine: &Engine) -> Result<(), Failure> {
    // `run` had the index (or needs none): planning stops without it.
    let checks = doctor::checks(settings, plan, Ok(()), Ok(engine));
    let shown: Vec<_> = checks.into_iter().filter(|c| c.level != Level::Ok).collect();
    if !shown.is_empty() {
        eprint!("{}", doctor::render(&shown));
    }
    let failed = doctor::failed(&shown).len();
    if failed == 0 {
        return Ok(());
    }
    Err(Failure::msg(
        EXIT_FAILURE,
        format!(
            "this host lacks what the plan needs ({failed} failed check(s) above, each with its fix); nothing was started"
        ),
    ))
}

/// `pookie setup qemu`: registers QEMU with binfmt_misc (with the F flag) for `arches`, or for
/// every architecture of the catalog but the host's. Needs root.
pub fn setup_qemu(arches: &[String]) -> Result<(), Failure> {
    let known: Vec<Arch> = Arch::ALL.into_iter().filter(|a| !a.runs_natively_on(Arch::host())).collect();
    let arches: Vec<Arch> = if arches.is_empty() {
        known.clone()
    } else {
        arches
            .iter()
            .map(|a| {
                known.iter().copied().find(|k| k.as_str() == a).ok_or_else(|| {
                    let names: Vec<&str> = known.iter().map(|k| k.as_str()).collect();
                    Failure::msg(
                        EXIT_BAD_INPUT,
                        format!("unknown architecture `{a}`: choose from {}", names.join(", ")),
                    )
                })
            })
            .collect::<Result<_, _>>()?
    };
    if unsafe { libc::geteuid() } != 0 {
        return Err(Failure { report: binfmt::SetupError::NotRoot.into(), code: EXIT_FAILURE });
    }
    let dir = binfmt::dir();
    let failure = |e: binfmt::SetupError| Failure { report: e.into(), code: EXIT_FAILURE };
    binfmt::ensure_mounted(&dir).map_err(failure)?;
    for arch in arches {
        match binfmt::register(&dir, std::path::Path::new(binfmt::CONF_DIR), arch).map_err(failure)? {
            Registered::AlreadyThere(e) => {
                println!("{:<8} already registered: {} (flags {})", arch.as_str(), e.name, e.flags)
            }
            Registered::Now(e) => {
                println!("{:<8} registered: {} → {} (flags {})", arch.as_str(), e.name, e.interpreter, e.flags)
            }
        }
    }
    println!(
        "registrations last until the next reboot; qemu-user-static's binfmt-support service restores them at boot"
    );
    Ok(())
}
