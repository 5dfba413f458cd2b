//! `pookie targets` and `pookie python-versions`: what pookie can build for.

use super::{EXIT_BAD_INPUT, Failure, ProjectArgs};
use crate::config;
use crate::target::{CATALOG, MANYLINUX_POLICIES, TestRunner};
use std::fmt::Write;

pub fn targets() -> String {
    let mut rows = vec![
        [
            "TARGET",
            "OS",
            "ARCH",
            "LIBC",
            "FAMILY",
            "PBS TRIPLE",
            "DEFAULT",
            "NATIVE",
            "CROSS (ZIG)",
            "EMULATE",
            "TESTS",
        ]
        .map(String::from),
    ];
    for t in CATALOG {
        let test = match t.test {
            TestRunner::Native => "native",
            TestRunner::Qemu => "qemu",
            TestRunner::Wine => "wine",
            TestRunner::NotRunnable => "not runnable on Linux",
        };
        rows.push([
            t.tag.to_string(),
            format!("{:?}", t.os).to_lowercase(),
            match t.slices {
                [] => t.arch.as_str().to_string(),
                slices => slices.iter().map(|p| p.info().arch.as_str()).collect::<Vec<_>>().join("+"),
            },
            format!("{:?}", t.libc).to_lowercase(),
            t.family.key().to_string(),
            if t.pbs { t.pbs_triple.to_string() } else { "- (source = \"image\")".to_string() },
            yes(t.default),
            yes(t.native),
            match t.slices {
                [] => t.zig_target.unwrap_or("-").to_string(),
                slices => slices.iter().filter_map(|p| p.info().zig_target).collect::<Vec<_>>().join(" + "),
            },
            yes(t.emulate),
            test.to_string(),
        ]);
    }
    let policies: Vec<String> = MANYLINUX_POLICIES.iter().map(|m| format!("2_{m}")).collect();
    format!(
        "{}\nmanylinux targets take any of the policies {} in place of 2_17\n(`manylinux_2_28_aarch64`, or `[linux] manylinux = \"2_28\"`): zig then builds against that glibc.\nriscv64 begins at 2_31, the oldest policy auditwheel knows for it. DEFAULT: built when `targets` is not set.\ni686 code runs natively on x86_64: its builds are cross builds in both modes, its tests native.\nuniversal2: one build per CPU, fused into one wheel whose Mach-O files hold both.\n",
        table(&rows),
        policies.join(", ")
    )
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

pub fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let widths: Vec<usize> = (0..N).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            let _ = write!(line, "{cell:w$}  ", w = widths[c]);
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

pub fn python_versions(project: &ProjectArgs, args: &[String]) -> Result<(), Failure> {
    let settings = config::load(&project.overrides(), args)?;
    let targets = settings.targets.clone();
    let Some(index) = super::project::python_index(&settings)? else {
        return Err(Failure::msg(
            EXIT_BAD_INPUT,
            "`[python] source = \"image\"`: interpreters come from the base images, there is no index to list",
        ));
    };
    let heading = format!("python-build-standalone {} ({})\n", index.release, index.base_url);
    let mut rows = vec![["TARGET", "PBS TRIPLE", "VERSIONS"].map(String::from)];
    for t in targets.iter() {
        let triple = t.info().pbs_triple;
        let versions: Vec<String> = index
            .minors(triple, true)
            .into_iter()
            .filter_map(|m| match index.lookup(triple, m, true) {
                crate::python::Availability::Available(a) => Some(format!("{}{}", a.version, m.abiflags())),
                _ => None,
            })
            .collect();
        rows.push([
            t.tag().to_string(),
            triple.to_string(),
            if versions.is_empty() { "-".into() } else { versions.join(" ") },
        ]);
    }
    super::plan::print_out(&(heading + &table(&rows)))
}
