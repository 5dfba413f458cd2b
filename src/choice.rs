//! Settings whose value is one of a few names: the container engine, the x86_64 compiler, the
//! non-native mode, the Python source, an override's inherit mode, the build frontend. Each enum
//! says its names once ([`Choice`]); one parser and one diagnostic (`config`'s) serve them all,
//! and the schema of pookie.toml is derived from the same enums. Here, beneath every stage, so
//! that the enums of later stages (the engine's) implement it.

/// An enum a setting names by one of its words.
pub trait Choice: Copy + Sized + 'static {
    /// Every value, in the order diagnostics list them.
    const ALL: &'static [Self];
    /// What a value is, for "unknown {WHAT} `x`".
    const WHAT: &'static str;
    /// The diagnostic's code.
    const CODE: &'static str;
    /// What the values do, for the diagnostic's help.
    const HELP: &'static str;

    /// The word that names it in pookie.toml (as serde spells it).
    fn name(self) -> &'static str;

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// "`a` or `b`", "`a`, `b` or `c`", and beyond three "one of `a`, `b`, `c`, `d`" (as serde).
pub fn expected<T: Choice>() -> String {
    let names: Vec<String> = T::ALL.iter().map(|c| format!("`{}`", c.name())).collect();
    match names.as_slice() {
        [one] => one.clone(),
        [init @ .., last] if names.len() <= 3 => format!("{} or {last}", init.join(", ")),
        _ => format!("one of {}", names.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BuildFrontend, Compiler, EngineKind, Inherit, PythonSourceKind};
    use crate::target::NonNativeMode;

    /// Each name reads back as its value, and is the one serde writes (plan JSON, schema).
    fn round_trips<T: Choice + serde::Serialize + PartialEq + std::fmt::Debug>() {
        for &c in T::ALL {
            assert_eq!(T::from_name(c.name()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::Value::String(c.name().into()));
        }
        assert_eq!(T::from_name("no-such-name"), None);
    }

    #[test]
    fn every_choice_round_trips_through_its_names() {
        round_trips::<Compiler>();
        round_trips::<NonNativeMode>();
        round_trips::<EngineKind>();
        round_trips::<Inherit>();
        round_trips::<BuildFrontend>();
        round_trips::<PythonSourceKind>();
    }

    #[test]
    fn the_label_lists_the_names_as_serde_does() {
        assert_eq!(expected::<NonNativeMode>(), "`cross` or `emulate`");
        assert_eq!(expected::<Compiler>(), "`zig`, `gcc` or `clang`");
        assert_eq!(expected::<BuildFrontend>(), "one of `build`, `build[uv]`, `pip`, `uv`");
    }
}
