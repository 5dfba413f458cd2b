//! `schema/pookie.schema.json`: generated from the configuration types, committed, current, and
//! describing what pookie actually accepts.

mod support;

use serde_json::Value;
use support::{Workspace, example, repo};

const REGENERATE: &str = "run `cargo run -- schema > schema/pookie.schema.json` and commit the result";

fn committed() -> String {
    std::fs::read_to_string(repo().join("schema/pookie.schema.json"))
        .unwrap_or_else(|e| panic!("cannot read schema/pookie.schema.json ({e}): {REGENERATE}"))
}

fn schema() -> Value {
    serde_json::from_str(&pookie::config::raw::schema_json()).expect("the schema is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema()).expect("the schema is a valid JSON schema")
}

fn toml_to_json(text: &str) -> Value {
    toml::from_str::<Value>(text).expect("valid TOML")
}

/// Messages of every way `instance` breaks the schema.
fn violations(instance: &Value) -> Vec<String> {
    validator().iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[test]
fn committed_schema_is_current() {
    let generated = pookie::config::raw::schema_json();
    if committed() != generated {
        panic!("schema/pookie.schema.json differs from the schema of the configuration types: {REGENERATE}");
    }
}

#[test]
fn pookie_schema_prints_it() {
    let ws = Workspace::new();
    let out = ws.pookie(&["schema"]).output().expect("runs");
    assert!(out.status.success(), "pookie schema failed: {}", support::stderr_of(&out));
    assert_eq!(support::stdout_of(&out), pookie::config::raw::schema_json());
}

#[test]
fn example_validates() {
    let errors = violations(&toml_to_json(&example()));
    assert!(errors.is_empty(), "pookie.toml.example breaks the schema:\n{}", errors.join("\n"));
}

#[test]
fn init_template_validates() {
    for (package, tests) in [(None, false), (Some("mypkg"), false), (Some("mypkg"), true)] {
        let text = pookie::config::init::template(package, tests);
        let errors = violations(&toml_to_json(&text));
        assert!(errors.is_empty(), "the `pookie init` template breaks the schema:\n{}", errors.join("\n"));
    }
}

/// Every key of the schema, as dotted paths (`python.mirror`, `overrides.select`).
fn keys(schema: &Value) -> Vec<String> {
    fn object_props<'a>(root: &'a Value, v: &'a Value) -> Option<&'a serde_json::Map<String, Value>> {
        // Follow a $ref, an `anyOf` holding an object (python: list or table) or array items.
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            let name = r.strip_prefix("#/$defs/").expect("local ref");
            return object_props(root, &root["$defs"][name]);
        }
        if let Some(p) = v.get("properties").and_then(Value::as_object) {
            return Some(p);
        }
        if let Some(items) = v.get("items") {
            return object_props(root, items);
        }
        v.get("anyOf").and_then(Value::as_array)?.iter().find_map(|alt| object_props(root, alt))
    }
    let mut out = Vec::new();
    for (k, v) in schema["properties"].as_object().expect("properties") {
        out.push(k.clone());
        if let Some(inner) = object_props(schema, v) {
            out.extend(inner.keys().map(|i| format!("{k}.{i}")));
        }
    }
    out
}

#[test]
fn example_shows_every_key() {
    let text = example();
    let doc: toml::Table = toml::from_str(&text).expect("valid TOML");
    let mut missing = Vec::new();
    for key in keys(&schema()) {
        let (table, leaf) = match key.split_once('.') {
            Some((t, l)) => (Some(t), l),
            None => (None, key.as_str()),
        };
        let present = match table {
            None => doc.contains_key(leaf),
            Some("overrides") => doc["overrides"]
                .as_array()
                .is_some_and(|a| a.iter().any(|o| o.as_table().is_some_and(|t| t.contains_key(leaf)))),
            Some(t) => doc.get(t).and_then(|v| v.as_table()).is_some_and(|t| t.contains_key(leaf)),
        };
        // Keys that cannot be active in a working example (ca-bundle needs a real file, path
        // only applies with source = "image") are shown commented out.
        let commented = text.lines().any(|l| l.trim_start().starts_with(&format!("# {leaf} =")));
        if !present && !commented {
            missing.push(key);
        }
    }
    assert!(missing.is_empty(), "pookie.toml.example does not show: {missing:?}");
    assert!(keys(&schema()).len() > 30, "expected every nested key, got {:?}", keys(&schema()));
}

#[test]
fn every_key_is_described() {
    let schema = schema();
    let mut undescribed = Vec::new();
    let mut check = |path: String, v: &Value| {
        if v.get("description").and_then(Value::as_str).is_none_or(|d| d.trim().len() < 10) {
            undescribed.push(path);
        }
    };
    for (k, v) in schema["properties"].as_object().expect("properties") {
        check(k.clone(), v);
    }
    for (def, d) in schema["$defs"].as_object().expect("$defs") {
        for (k, v) in d.get("properties").and_then(Value::as_object).into_iter().flatten() {
            check(format!("{def}.{k}"), v);
        }
    }
    assert!(undescribed.is_empty(), "keys without a description: {undescribed:?}");
    assert!(schema["description"].as_str().is_some_and(|d| !d.is_empty()));
}

#[test]
fn closed_values_are_enums() {
    let schema = schema();
    let enum_of = |path: &[&str]| -> Vec<String> {
        let mut v = &schema;
        for p in path {
            v = &v[*p];
        }
        // `anyOf: [{$ref}, {type: null}]` for optional keys.
        let r = v["anyOf"][0]["$ref"].as_str().unwrap_or_else(|| panic!("{path:?} is not a reference: {v}"));
        let def = &schema["$defs"][r.strip_prefix("#/$defs/").expect("local ref")];
        // `enum: [...]`, or `oneOf: [{const, description}]` where the values are described.
        match (def["enum"].as_array(), def["oneOf"].as_array()) {
            (Some(names), _) => names.iter().map(|s| s.as_str().expect("string").to_string()).collect(),
            (None, Some(described)) => described
                .iter()
                .map(|d| {
                    assert!(d["description"].as_str().is_some_and(|t| !t.is_empty()), "{path:?}: {d}");
                    d["const"].as_str().unwrap_or_else(|| panic!("{path:?} is not an enum: {def}")).to_string()
                })
                .collect(),
            (None, None) => panic!("{path:?} is not an enum: {def}"),
        }
    };
    assert_eq!(enum_of(&["properties", "engine"]), ["docker", "podman"]);
    assert_eq!(enum_of(&["$defs", "RawLinux", "properties", "x86_64-compiler"]), ["zig", "gcc", "clang"]);
    assert_eq!(enum_of(&["$defs", "RawLinux", "properties", "non-native-mode"]), ["cross", "emulate"]);
    assert_eq!(enum_of(&["$defs", "RawPythonTable", "properties", "source"]), ["pbs", "image"]);
}

#[test]
fn schema_rejects_what_pookie_rejects() {
    let ok = |toml: &str| assert!(violations(&toml_to_json(toml)).is_empty(), "schema rejects valid {toml:?}");
    let bad = |toml: &str| assert!(!violations(&toml_to_json(toml)).is_empty(), "schema accepts invalid {toml:?}");
    ok("python = [\"3.12\", \"13\", 14]\n");
    ok("timeout = 600\n");
    ok("timeout = \"1h30m\"\n");
    ok("skip = [\"cp310-*\", \"*-win_amd64\"]\n");
    ok("[linux]\nx86_64-compiler = \"clang\"\n");
    bad("targts = []\n");
    bad("jobs = 0\n");
    bad("jobs = \"four\"\n");
    bad("engine = \"lxc\"\n");
    bad("python = [\"3.x\"]\n");
    bad("timeout = \"soon\"\n");
    bad("[linux]\nx86-64-compiler = \"gcc\"\n");
    bad("[linux]\nnon-native-mode = \"native\"\n");
    bad("[python]\nsource = \"conda\"\n");
    bad("[images]\nlinux-x86-64 = \"debian\"\n");
    bad("[[overrides]]\nbuild = \"no select\"\n");
}
