//! `pookie init`: a commented pookie.toml for the project at hand.

/// The commented template; `{name}` and the test lines are filled from the project.
pub fn template(package: Option<&str>, has_tests: bool) -> String {
    let test = match (has_tests, package) {
        (true, _) => "test = \"python -m pytest {project}/tests\"\ntest-requires = [\"pytest\"]".to_string(),
        (false, Some(p)) => format!("test = \"python -c 'import {p}'\""),
        (false, None) => "# test = \"python -m pytest {project}/tests\"\n# test-requires = [\"pytest\"]".to_string(),
    };
    format!(
        r#"# pookie.toml — what pookie builds and tests. Every key is optional; see README.md.

# Wheel platforms (`pookie targets` lists them; globs such as "manylinux_*" work).
# Default: all of them.
targets = ["manylinux_2_17_x86_64", "manylinux_2_17_aarch64", "musllinux_1_2_x86_64", "win_amd64"]

# CPython minor versions. Default: the newest four that every chosen target has.
# python = ["3.12", "3.13"]

# Builds a wheel into $POOKIE_WHEEL_DIR, with the target's `python` and `pip` on PATH. The default,
# pookie's PEP 517 frontend, builds with any build backend, natively and cross.
build = "pookie-build-wheel"

# Runs in an empty directory once the wheel is installed; {{project}} is the project's path.
{test}

# output-dir = "dist"
# jobs = 4              # default: one per CPU core
# timeout = "30m"       # per job
# skip = "cp310-*"      # build identifiers look like cp312-manylinux_2_17_x86_64
# [env]
# MY_FEATURE = "1"

[linux]
# x86_64-compiler = "zig"      # or the base image's "gcc" or "clang"
# non-native-mode = "cross"    # or "emulate": build under QEMU instead of cross-compiling

# [python]
# source = "pbs"               # python-build-standalone; "image" uses the base image's Pythons
# mirror = "https://mirror.example/python-build-standalone/20260814"

# [images]
# linux-x86_64 = "debian:bookworm-slim"

# [[overrides]]
# select = "*-win_amd64"
# test = "python -c 'import sys; print(sys.platform)'"
"#
    )
}

/// pookie.toml holding what `[tool.cibuildwheel]` means to pookie (`raw`, from
/// [`super::read_cibuildwheel`]), with the notes on what it left out as comments on top.
pub fn from_cibuildwheel(raw: &super::raw::RawConfig, notes: &[String]) -> String {
    use toml::Value;
    let s = |v: &str| Value::String(v.to_string());
    let list = |v: &mut dyn Iterator<Item = &String>| Value::Array(v.map(|x| s(x)).collect());
    let env = |m: &std::collections::BTreeMap<toml::Spanned<String>, toml::Spanned<String>>| {
        Value::Table(m.iter().map(|(k, v)| (k.get_ref().clone(), s(v.get_ref()))).collect())
    };
    let mut t = toml::Table::new();
    let put = |t: &mut toml::Table, key: &str, v: Option<Value>| {
        if let Some(v) = v {
            t.insert(key.to_string(), v);
        }
    };
    put(&mut t, "targets", raw.targets.as_ref().map(|v| list(&mut v.get_ref().iter().map(|x| x.get_ref()))));
    put(&mut t, "only", raw.only.as_ref().map(|p| list(&mut p.get_ref().0.iter())));
    put(&mut t, "skip", raw.skip.as_ref().map(|p| list(&mut p.get_ref().0.iter())));
    put(&mut t, "test-skip", raw.test_skip.as_ref().map(|p| list(&mut p.get_ref().0.iter())));
    put(&mut t, "build", raw.build.as_ref().map(|b| s(b.get_ref())));
    put(
        &mut t,
        "config-settings",
        raw.config_settings
            .as_ref()
            .map(|c| Value::Table(c.get_ref().iter().map(|(k, v)| (k.clone(), v.get_ref().clone())).collect())),
    );
    put(&mut t, "build-frontend", raw.build_frontend.as_ref().map(|b| s(b.get_ref())));
    put(&mut t, "test", raw.test.as_ref().map(|b| s(b.get_ref())));
    put(&mut t, "test-requires", raw.test_requires.as_ref().map(|v| list(&mut v.get_ref().iter())));
    put(&mut t, "test-extras", raw.test_extras.as_ref().map(|v| list(&mut v.iter().map(|x| x.get_ref()))));
    put(&mut t, "test-groups", raw.test_groups.as_ref().map(|v| list(&mut v.iter().map(|x| x.get_ref()))));
    put(&mut t, "test-sources", raw.test_sources.as_ref().map(|v| list(&mut v.iter().map(|x| x.get_ref()))));
    put(&mut t, "before-all", raw.before_all.as_ref().map(|b| s(b.get_ref())));
    put(&mut t, "before-build", raw.before_build.as_ref().map(|b| s(b.get_ref())));
    put(&mut t, "before-test", raw.before_test.as_ref().map(|b| s(b.get_ref())));
    put(&mut t, "repair-wheel-command", raw.repair_wheel_command.as_ref().map(|b| s(b.get_ref())));
    put(&mut t, "environment-pass", raw.environment_pass.as_ref().map(|v| list(&mut v.iter().map(|x| x.get_ref()))));
    put(&mut t, "env", raw.env.as_ref().map(|e| env(e.get_ref())));
    let overrides: Vec<Value> = raw
        .overrides
        .iter()
        .map(|o| {
            let mut ot = toml::Table::new();
            put(&mut ot, "select", Some(list(&mut o.select.get_ref().0.iter())));
            put(&mut ot, "build", o.build.as_ref().map(|b| s(b.get_ref())));
            put(&mut ot, "build-frontend", o.build_frontend.as_ref().map(|b| s(b.get_ref())));
            put(
                &mut ot,
                "config-settings",
                o.config_settings
                    .as_ref()
                    .map(|c| Value::Table(c.get_ref().iter().map(|(k, v)| (k.clone(), v.get_ref().clone())).collect())),
            );
            put(&mut ot, "test", o.test.as_ref().map(|b| s(b.get_ref())));
            put(&mut ot, "test-requires", o.test_requires.as_ref().map(|v| list(&mut v.iter())));
            put(&mut ot, "before-all", o.before_all.as_ref().map(|b| s(b.get_ref())));
            put(&mut ot, "before-build", o.before_build.as_ref().map(|b| s(b.get_ref())));
            put(&mut ot, "before-test", o.before_test.as_ref().map(|b| s(b.get_ref())));
            put(&mut ot, "repair-wheel-command", o.repair_wheel_command.as_ref().map(|b| s(b.get_ref())));
            put(&mut ot, "env", o.env.as_ref().map(env));
            put(&mut ot, "inherit", o.inherit.as_ref().map(inherit));
            Value::Table(ot)
        })
        .collect();
    if !overrides.is_empty() {
        t.insert("overrides".into(), Value::Array(overrides));
    }
    let mut out = String::from(
        "# pookie.toml written by `pookie init --from-cibuildwheel` from [tool.cibuildwheel] of\n\
         # pyproject.toml: the same builds, hooks and tests, in pookie's words. See README.md.\n",
    );
    if !notes.is_empty() {
        out.push_str("#\n# Left out of [tool.cibuildwheel]:\n");
        for n in notes {
            out.push_str(&format!("# - {}\n", super::error::printable(n).replace('\n', " ")));
        }
    }
    out.push('\n');
    out.push_str(&toml::to_string_pretty(&t).expect("a TOML table serializes"));
    out
}

/// An override's `inherit` table.
fn inherit(i: &super::raw::RawInherit) -> toml::Value {
    let mut t = toml::Table::new();
    for (key, mode) in [
        ("config-settings", &i.config_settings),
        ("test", &i.test),
        ("test-requires", &i.test_requires),
        ("before-all", &i.before_all),
        ("before-build", &i.before_build),
        ("before-test", &i.before_test),
        ("repair-wheel-command", &i.repair_wheel_command),
    ] {
        if let Some(m) = mode {
            t.insert(key.to_string(), toml::Value::String(m.get_ref().clone()));
        }
    }
    toml::Value::Table(t)
}
