//! `[tool.cibuildwheel]`: a project configured for cibuildwheel, read as pookie's configuration
//! when it has none of its own. The keys pookie honours become their pookie equivalents, with
//! cibuildwheel's identifiers (`cp312-manylinux_x86_64`) translated to pookie's
//! (`cp312-manylinux_*_x86_64` matches `cp312-manylinux_2_17_x86_64`); every other key is
//! listed, with the reason, as a note of the plan.

use super::raw::{RawConfig, RawInherit, RawOverride, RawPatterns};
use crate::target::Target;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// A string, or a list of strings (cibuildwheel accepts both for most options).
#[derive(Debug, Clone)]
struct Strings(Vec<String>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            One(String),
            Many(Vec<String>),
        }
        Ok(Strings(match Either::deserialize(d)? {
            Either::One(s) => vec![s],
            Either::Many(v) => v,
        }))
    }
}

/// `environment`: a table, or cibuildwheel's string form `A=1 B="two words"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Environment {
    Table(BTreeMap<String, String>),
    Text(String),
}

/// `build-frontend`: `"build"`, `"build; args: ..."` or `{ name = "build", args = [...] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Frontend {
    Text(String),
    Table { name: String, args: Option<Strings> },
}

/// The options pookie honours, wherever cibuildwheel allows them (top level, a platform's
/// table, an override).
#[derive(Debug, Default)]
struct Options {
    test_command: Option<Spanned<Strings>>,
    test_requires: Option<Spanned<Strings>>,
    test_extras: Option<Spanned<Strings>>,
    test_groups: Option<Spanned<Strings>>,
    test_sources: Option<Spanned<Strings>>,
    before_build: Option<Spanned<Strings>>,
    before_test: Option<Spanned<Strings>>,
    before_all: Option<Spanned<Strings>>,
    repair_wheel_command: Option<Spanned<Strings>>,
    build_frontend: Option<Spanned<Frontend>>,
    config_settings: Option<Spanned<BTreeMap<String, Strings>>>,
    environment: Option<Spanned<Environment>>,
}

/// A table holding the options (serde's `flatten` would lose their spans), plus `$extra`.
macro_rules! with_options {
    ($name:ident { $($field:ident: $ty:ty,)* }) => {
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        struct $name {
            $($field: $ty,)*
            test_command: Option<Spanned<Strings>>,
            test_requires: Option<Spanned<Strings>>,
            test_extras: Option<Spanned<Strings>>,
            test_groups: Option<Spanned<Strings>>,
            test_sources: Option<Spanned<Strings>>,
            before_build: Option<Spanned<Strings>>,
            before_test: Option<Spanned<Strings>>,
            before_all: Option<Spanned<Strings>>,
            repair_wheel_command: Option<Spanned<Strings>>,
            build_frontend: Option<Spanned<Frontend>>,
            config_settings: Option<Spanned<BTreeMap<String, Strings>>>,
            environment: Option<Spanned<Environment>>,
        }

        impl $name {
            fn options(&self) -> Options {
                Options {
                    test_command: self.test_command.clone(),
                    test_requires: self.test_requires.clone(),
                    test_extras: self.test_extras.clone(),
                    test_groups: self.test_groups.clone(),
                    test_sources: self.test_sources.clone(),
                    before_build: self.before_build.clone(),
                    before_test: self.before_test.clone(),
                    before_all: self.before_all.clone(),
                    repair_wheel_command: self.repair_wheel_command.clone(),
                    build_frontend: self.build_frontend.clone(),
                    config_settings: self.config_settings.clone(),
                    environment: self.environment.clone(),
                }
            }
        }
    };
}

with_options!(Table {
    build: Option<Spanned<RawPatterns>>,
    skip: Option<Spanned<RawPatterns>>,
    test_skip: Option<Spanned<RawPatterns>>,
    environment_pass: Option<Spanned<Strings>>,
    linux: Option<Platform>,
    windows: Option<Platform>,
    macos: Option<Platform>,
    overrides: Option<Vec<Override>>,
});
with_options!(Platform { archs: Option<Spanned<Strings>>, });
with_options!(Override { select: Spanned<RawPatterns>, inherit: Option<BTreeMap<String, Spanned<String>>>, });

/// Keys of a cibuildwheel table that pookie honours (top level; platform tables and overrides
/// take the option keys).
const OPTION_KEYS: &[&str] = &[
    "test-command",
    "test-requires",
    "test-extras",
    "test-groups",
    "test-sources",
    "before-build",
    "before-test",
    "before-all",
    "repair-wheel-command",
    "build-frontend",
    "config-settings",
    "environment",
];
const TOP_KEYS: &[&str] =
    &["build", "skip", "test-skip", "environment-pass", "linux", "windows", "macos", "overrides", "select"];

/// Why a key pookie does not honour is left out.
fn why_ignored(key: &str) -> &'static str {
    match key {
        "manylinux-x86_64-image"
        | "manylinux-aarch64-image"
        | "manylinux-i686-image"
        | "manylinux-ppc64le-image"
        | "manylinux-s390x-image"
        | "manylinux-armv7l-image"
        | "manylinux-riscv64-image"
        | "musllinux-x86_64-image"
        | "musllinux-aarch64-image"
        | "musllinux-i686-image"
        | "musllinux-ppc64le-image"
        | "musllinux-s390x-image"
        | "musllinux-armv7l-image"
        | "musllinux-riscv64-image" => {
            "pookie builds on its own layers over [images] bases; choose a policy with [linux] manylinux"
        }
        "container-engine" => "pookie's engine is `engine` in pookie.toml or $POOKIE_ENGINE",
        _ => "not supported by pookie",
    }
}

/// cibuildwheel's `CIBW_*` variables laid over a `[tool.cibuildwheel]` table, as cibuildwheel
/// reads them (a variable wins over the table): `CIBW_TEST_COMMAND` is `test-command`,
/// `CIBW_ARCHS_LINUX` is `archs` of `[tool.cibuildwheel.linux]`, `CIBW_CONFIG_SETTINGS` takes
/// space-separated `KEY=VALUE` pairs. Returns the names of the variables, sorted.
pub fn with_variables(table: &mut toml::Table, variables: Vec<(String, String)>) -> Vec<String> {
    let mut applied = Vec::new();
    for (name, value) in variables {
        let Some(rest) = name.strip_prefix("CIBW_") else { continue };
        let lower = rest.to_ascii_lowercase();
        let (key, platform) = ["linux", "windows", "macos", "pyodide", "ios"]
            .into_iter()
            .find_map(|p| lower.strip_suffix(&format!("_{p}")).map(|k| (k.to_string(), Some(p))))
            .unwrap_or((lower.clone(), None));
        let key = key.replace('_', "-");
        let value = if key == "config-settings" {
            let mut settings = toml::Table::new();
            for pair in value.split_whitespace() {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let v = toml::Value::String(v.to_string());
                match settings.get_mut(k) {
                    Some(toml::Value::Array(a)) => a.push(v),
                    Some(first) => *first = toml::Value::Array(vec![first.clone(), v]),
                    None => {
                        settings.insert(k.to_string(), v);
                    }
                }
            }
            toml::Value::Table(settings)
        } else {
            toml::Value::String(value)
        };
        let target = match platform {
            None => &mut *table,
            Some(p) => {
                let entry = table.entry(p.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if !entry.is_table() {
                    *entry = toml::Value::Table(toml::Table::new());
                }
                entry.as_table_mut().expect("a table")
            }
        };
        target.insert(key, value);
        applied.push(name);
    }
    applied.sort();
    applied
}

/// The pookie configuration a `[tool.cibuildwheel]` table means, and notes on what was left out.
/// `table` is the table as plain TOML (for its key names), `text` the document it came from and
/// `span` where the table is in it.
pub fn convert(
    table: &toml::Table,
    text: &str,
    span: Range<usize>,
) -> Result<(RawConfig, Vec<String>), toml::de::Error> {
    let mut notes = Vec::new();
    let ignored = |t: &toml::Table, allowed: &[&str], place: &str, notes: &mut Vec<String>| {
        for key in t.keys().filter(|k| !allowed.contains(&k.as_str())) {
            notes.push(format!("[tool.cibuildwheel{place}] `{key}` is ignored: {}", why_ignored(key)));
        }
    };
    ignored(table, &[TOP_KEYS, OPTION_KEYS].concat(), "", &mut notes);
    for platform in ["linux", "windows", "macos"] {
        if let Some(toml::Value::Table(t)) = table.get(platform) {
            ignored(t, &[OPTION_KEYS, &["archs"]].concat(), &format!(".{platform}"), &mut notes);
        }
    }
    if let Some(toml::Value::Array(list)) = table.get("overrides") {
        for (i, o) in list.iter().enumerate() {
            if let toml::Value::Table(t) = o {
                ignored(
                    t,
                    &[OPTION_KEYS, &["select", "inherit"]].concat(),
                    &format!(".overrides #{}", i + 1),
                    &mut notes,
                );
            }
        }
    }
    // The typed reading, with spans into the document for diagnostics.
    let typed: Table = {
        #[derive(Deserialize)]
        struct Doc {
            tool: ToolTable,
        }
        #[derive(Deserialize)]
        struct ToolTable {
            cibuildwheel: Table,
        }
        toml::from_str::<Doc>(text)?.tool.cibuildwheel
    };

    let mut raw = RawConfig {
        only: typed.build.clone().map(translate_patterns),
        skip: typed.skip.clone().map(translate_patterns),
        test_skip: typed.test_skip.clone().map(translate_patterns),
        environment_pass: typed.environment_pass.clone().map(spanned_each),
        ..RawConfig::default()
    };
    apply(&typed.options(), &mut raw, &mut notes, "");
    let mut targets = Vec::new();
    for (name, platform) in [("linux", &typed.linux), ("windows", &typed.windows), ("macos", &typed.macos)] {
        let archs = platform.as_ref().and_then(|p| p.archs.as_ref());
        targets.extend(platform_targets(name, archs, &mut notes));
        if let Some(p) = platform {
            let select = match name {
                "linux" => "*-manylinux_* *-musllinux_*",
                "windows" => "*-win_*",
                _ => "*-macosx_*",
            };
            let select = Spanned::new(span.clone(), RawPatterns(select.split(' ').map(str::to_string).collect()));
            let mut o = empty_override(select);
            if apply_override(&p.options(), &mut o, &mut notes, &format!(".{name}")) {
                raw.overrides.push(o);
            }
        }
    }
    let every_platform_default =
        [&typed.linux, &typed.windows, &typed.macos].iter().all(|p| p.as_ref().is_none_or(|p| p.archs.is_none()));
    if !every_platform_default {
        raw.targets =
            Some(Spanned::new(span.clone(), targets.into_iter().map(|t| Spanned::new(span.clone(), t)).collect()));
    }
    for (i, o) in typed.overrides.iter().flatten().enumerate() {
        let select = translate_patterns(Spanned::new(o.select.span(), o.select.get_ref().clone()));
        // An entry for PyPy or GraalPy builds only selects nothing here: dropped, as its selectors.
        if select.get_ref().0.is_empty() {
            continue;
        }
        let mut out = empty_override(select);
        let place = format!(".overrides #{}", i + 1);
        out.inherit = o.inherit.as_ref().map(|i| inherit(i, &mut notes, &place));
        if apply_override(&o.options(), &mut out, &mut notes, &place) {
            raw.overrides.push(out);
        }
    }
    Ok((raw, notes))
}

fn empty_override(select: Spanned<RawPatterns>) -> RawOverride {
    RawOverride {
        select,
        build: None,
        build_frontend: None,
        test: None,
        test_requires: None,
        before_build: None,
        before_test: None,
        before_all: None,
        repair_wheel_command: None,
        env: None,
        inherit: None,
        config_settings: None,
    }
}

/// cibuildwheel's identifiers name a platform without its policy (`manylinux_x86_64`,
/// `macosx_arm64`, `musllinux_{ppc64le,s390x}`); pookie's carry it (`manylinux_2_17_x86_64`,
/// `macosx_11_0_arm64`).
fn translate(glob: &str) -> String {
    let re = regex::Regex::new(
        r"(manylinux|musllinux|macosx)_((?:x86_64|i686|aarch64|ppc64le|s390x|armv7l|riscv64|arm64|universal2)\b|\{)",
    )
    .expect("valid regex");
    re.replace_all(glob, "${1}_*_${2}").into_owned()
}

/// Translated globs, without those naming PyPy (`pp*`) or GraalPy (`gp*`) builds: pookie builds
/// CPython only, so they select nothing.
fn translate_patterns(p: Spanned<RawPatterns>) -> Spanned<RawPatterns> {
    let span = p.span();
    let globs = p
        .into_inner()
        .0
        .iter()
        .filter(|g| !g.starts_with("pp") && !g.starts_with("gp"))
        .map(|g| translate(g))
        .collect();
    Spanned::new(span, RawPatterns(globs))
}

/// The words of a list option: cibuildwheel splits a string on whitespace (`test-requires =
/// "pytest numpy"`).
fn spanned_each(p: Spanned<Strings>) -> Vec<Spanned<String>> {
    split(p, char::is_whitespace)
}

fn split(p: Spanned<Strings>, at: fn(char) -> bool) -> Vec<Spanned<String>> {
    let span = p.span();
    p.into_inner()
        .0
        .iter()
        .flat_map(|s| s.split(at).filter(|w| !w.is_empty()).map(str::to_string).collect::<Vec<_>>())
        .map(|s| Spanned::new(span.clone(), s))
        .collect()
}

/// `test-requires` as pookie takes it.
fn requirements(p: &Spanned<Strings>) -> Vec<String> {
    spanned_each(p.clone()).into_iter().map(Spanned::into_inner).collect()
}

/// A list of commands, as cibuildwheel runs them: one after the other.
fn joined(p: &Spanned<Strings>) -> Spanned<String> {
    Spanned::new(p.span(), p.get_ref().0.join(" && "))
}

/// The literal variables of `environment`; values that expand variables or run commands are
/// left out (pookie's `env` is literal) and noted.
fn environment(
    e: &Spanned<Environment>,
    notes: &mut Vec<String>,
    place: &str,
) -> BTreeMap<Spanned<String>, Spanned<String>> {
    let span = e.span();
    let pairs: Vec<(String, String)> = match e.get_ref() {
        Environment::Table(t) => t.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Environment::Text(s) => match shell_words(s) {
            Some(words) => {
                words.iter().filter_map(|w| w.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
            }
            None => {
                notes.push(format!(
                    "[tool.cibuildwheel{place}] `environment` is ignored: it is not a list of NAME=value"
                ));
                Vec::new()
            }
        },
    };
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if v.contains('$') || v.contains('`') {
            notes.push(format!(
                "[tool.cibuildwheel{place}] environment `{k}` is ignored: its value expands variables or runs commands, and pookie's env is literal"
            ));
            continue;
        }
        out.insert(Spanned::new(span.clone(), k), Spanned::new(span.clone(), v));
    }
    out
}

/// `A=1 B="two words" C='x'` split as a shell would (quotes only, no expansion).
fn shell_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in s.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// The top-level options.
fn apply(o: &Options, raw: &mut RawConfig, notes: &mut Vec<String>, place: &str) {
    raw.test = o.test_command.as_ref().map(joined);
    raw.test_requires = o.test_requires.as_ref().map(|p| Spanned::new(p.span(), requirements(p)));
    // cibuildwheel's test-extras string is comma-separated.
    raw.test_extras = o.test_extras.clone().map(|p| split(p, |c| c == ','));
    raw.test_groups = o.test_groups.clone().map(|p| split(p, char::is_whitespace));
    raw.test_sources = o.test_sources.clone().map(spanned_each);
    raw.before_build = o.before_build.as_ref().map(joined);
    raw.before_test = o.before_test.as_ref().map(joined);
    raw.before_all = o.before_all.as_ref().map(joined);
    before_all_note(o, notes, place);
    raw.repair_wheel_command = repair_command(o, notes, place);
    raw.build_frontend = frontend(o, notes, place);
    raw.config_settings = config_settings(o);
    if let Some(e) = &o.environment {
        let env = environment(e, notes, place);
        raw.env = Some(Spanned::new(e.span(), env));
    }
}

/// Options of a platform table or an override; false when it sets none pookie honours.
fn apply_override(o: &Options, out: &mut RawOverride, notes: &mut Vec<String>, place: &str) -> bool {
    out.test = o.test_command.as_ref().map(joined);
    out.test_requires = o.test_requires.as_ref().map(requirements);
    out.before_build = o.before_build.as_ref().map(joined);
    out.before_test = o.before_test.as_ref().map(joined);
    out.before_all = o.before_all.as_ref().map(joined);
    before_all_note(o, notes, place);
    out.repair_wheel_command = repair_command(o, notes, place);
    out.build_frontend = frontend(o, notes, place);
    out.config_settings = config_settings(o);
    if let Some(e) = &o.environment {
        out.env = Some(environment(e, notes, place));
    }
    for (key, set) in [
        ("test-extras", o.test_extras.is_some()),
        ("test-sources", o.test_sources.is_some()),
        ("test-groups", o.test_groups.is_some()),
    ] {
        if set {
            notes.push(format!("[tool.cibuildwheel{place}] `{key}` is ignored: pookie takes it for all builds only"));
        }
    }
    out.test.is_some()
        || out.test_requires.is_some()
        || out.before_build.is_some()
        || out.before_test.is_some()
        || out.before_all.is_some()
        || out.repair_wheel_command.is_some()
        || out.build_frontend.is_some()
        || out.config_settings.is_some()
        || out.env.as_ref().is_some_and(|e| !e.is_empty())
}

/// cibuildwheel's `inherit` table, for the options pookie has (`test-command` is `test`).
/// `environment` always adds in pookie (its append); other options are noted.
fn inherit(table: &BTreeMap<String, Spanned<String>>, notes: &mut Vec<String>, place: &str) -> RawInherit {
    let mut out = RawInherit::default();
    for (key, mode) in table {
        let slot = match key.as_str() {
            "test-command" => &mut out.test,
            "config-settings" => &mut out.config_settings,
            "test-requires" => &mut out.test_requires,
            "before-all" => &mut out.before_all,
            "before-build" => &mut out.before_build,
            "before-test" => &mut out.before_test,
            "repair-wheel-command" => &mut out.repair_wheel_command,
            "environment" if mode.get_ref() == "append" => continue,
            _ => {
                notes.push(format!(
                    "[tool.cibuildwheel{place}] `inherit.{key} = \"{}\"` is ignored: pookie's overrides replace it (`environment` adds)",
                    mode.get_ref()
                ));
                continue;
            }
        };
        *slot = Some(mode.clone());
    }
    out
}

/// `config-settings`, which reach the backend through pookie-build-wheel's -C, as through build's.
type RawSettings = Spanned<BTreeMap<String, Spanned<toml::Value>>>;
fn config_settings(o: &Options) -> Option<RawSettings> {
    let c = o.config_settings.as_ref()?;
    let settings = c
        .get_ref()
        .iter()
        .map(|(k, values)| {
            let list = values.0.iter().map(|v| toml::Value::String(v.clone())).collect();
            (k.clone(), Spanned::new(c.span(), toml::Value::Array(list)))
        })
        .collect();
    Some(Spanned::new(c.span(), settings))
}

/// `build-frontend`'s name (cibuildwheel's `default` is `build`); its `args` pookie does not
/// pass on, and says so.
fn frontend(o: &Options, notes: &mut Vec<String>, place: &str) -> Option<Spanned<String>> {
    let f = o.build_frontend.as_ref()?;
    let (name, args) = match f.get_ref() {
        Frontend::Text(s) => match s.split_once(';') {
            Some((name, args)) => (name.trim().to_string(), !args.trim().is_empty()),
            None => (s.trim().to_string(), false),
        },
        Frontend::Table { name, args } => (name.clone(), args.as_ref().is_some_and(|a| !a.0.is_empty())),
    };
    if args {
        notes.push(format!("[tool.cibuildwheel{place}] `build-frontend` args are not passed on by pookie"));
    }
    Some(Spanned::new(f.span(), if name == "default" { "build".to_string() } else { name }))
}

/// `repair-wheel-command`, unless it runs delocate, which macOS wheels need on a Mac: pookie
/// does not repair them (they link nothing but the system's).
fn repair_command(o: &Options, notes: &mut Vec<String>, place: &str) -> Option<Spanned<String>> {
    let command = o.repair_wheel_command.as_ref().map(joined)?;
    if command.get_ref().contains("delocate") {
        notes.push(format!(
            "[tool.cibuildwheel{place}] `repair-wheel-command` runs delocate, which pookie does not have: macOS wheels are not repaired"
        ));
        return None;
    }
    Some(command)
}

/// cibuildwheel's before-all runs in manylinux images (RHEL-like); pookie's build images are
/// Debian's (and zig for cross targets), where yum and dnf are not.
fn before_all_note(o: &Options, notes: &mut Vec<String>, place: &str) {
    let Some(cmd) = o.before_all.as_ref().map(|c| joined(c).into_inner()) else { return };
    let words: Vec<&str> = cmd.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    if let Some(tool) = ["yum", "dnf", "microdnf"].into_iter().find(|t| words.contains(t)) {
        notes.push(format!(
            "[tool.cibuildwheel{place}] `before-all` runs `{tool}`, which pookie's Debian-based build images lack: give pookie its own `before-all` (apt-get, or a library built from source into $POOKIE_TARGET_PREFIX) in pookie.toml"
        ));
    }
}

/// pookie's targets for a platform's `archs` (cibuildwheel's names; `auto` by default).
fn platform_targets(platform: &str, archs: Option<&Spanned<Strings>>, notes: &mut Vec<String>) -> Vec<String> {
    let words: Vec<String> = match archs {
        Some(a) => a.get_ref().0.iter().flat_map(|s| s.split_whitespace().map(str::to_string)).collect(),
        None => vec!["auto".into()],
    };
    // Targets python-build-standalone serves (a cibuildwheel project's interpreters come from it).
    let all_tags: Vec<&str> = Target::all().filter(|t| t.info().pbs).map(|t| t.tag()).collect();
    let image_only: Vec<&str> = Target::all().filter(|t| !t.info().pbs).map(|t| t.tag()).collect();
    let mut out = Vec::new();
    for word in words {
        let arches: Vec<&str> = match (platform, word.as_str()) {
            ("linux", "auto" | "auto64" | "native") => vec!["x86_64"],
            ("linux", "all") => vec!["x86_64", "i686", "aarch64", "ppc64le", "s390x", "armv7l", "riscv64"],
            ("linux", a) => vec![match a {
                "x86_64" | "i686" | "aarch64" | "ppc64le" | "s390x" | "armv7l" | "riscv64" => a,
                other => {
                    notes
                        .push(format!("[tool.cibuildwheel.linux] arch `{other}` is ignored: pookie does not build it"));
                    continue;
                }
            }],
            ("windows", "auto" | "auto64" | "native" | "AMD64") => vec!["amd64"],
            ("windows", "ARM64") => vec!["arm64"],
            ("windows", "all") => vec!["amd64", "arm64"],
            ("macos", "auto" | "native") => vec!["x86_64", "arm64"],
            ("macos", "all") => vec!["x86_64", "arm64", "universal2"],
            ("macos", "x86_64" | "arm64" | "universal2") => vec![word.as_str()],
            (p, other) => {
                notes.push(format!("[tool.cibuildwheel.{p}] arch `{other}` is ignored: pookie does not build it"));
                continue;
            }
        };
        for arch in arches {
            let globs: Vec<String> = match platform {
                "linux" => vec![format!("manylinux_*_{arch}"), format!("musllinux_*_{arch}")],
                "windows" => vec![format!("win_{arch}")],
                _ => vec![format!("macosx_*_{arch}")],
            };
            for g in globs {
                let glob = crate::config::selector::Glob::new(&g).expect("a valid glob");
                if all_tags.iter().any(|t| glob.matches(t)) && !out.contains(&g) {
                    out.push(g);
                } else if let Some(t) = image_only.iter().find(|t| glob.matches(t)) {
                    notes.push(format!(
                        "[tool.cibuildwheel.{platform}] {t} is left out: python-build-standalone has no CPython for it; name it in pookie.toml's `targets` with `[python] source = \"image\"`"
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_translated() {
        assert_eq!(translate("cp312-manylinux_x86_64"), "cp312-manylinux_*_x86_64");
        assert_eq!(translate("*-musllinux_aarch64 *-macosx_arm64"), "*-musllinux_*_aarch64 *-macosx_*_arm64");
        assert_eq!(translate("*-win_amd64"), "*-win_amd64");
        assert_eq!(translate("cp3{9,10}-*"), "cp3{9,10}-*");
        assert_eq!(translate("*-musllinux_{ppc64le,s390x}"), "*-musllinux_*_{ppc64le,s390x}");
        assert_eq!(translate("*-manylinux_x86_64_v2"), "*-manylinux_x86_64_v2");
    }

    #[test]
    fn environment_strings_split_like_a_shell() {
        assert_eq!(
            shell_words(r#"A=1 B="two words" C='x y'"#).unwrap(),
            vec!["A=1".to_string(), "B=two words".into(), "C=x y".into()]
        );
        assert_eq!(shell_words("A=\"unclosed"), None);
    }
}
