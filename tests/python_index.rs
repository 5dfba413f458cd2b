//! The python-build-standalone index: fetched from a mirror URL (a local HTTP server serving the
//! recorded SHA256SUMS of release 20260814), cached, read offline, and the diagnostics of each
//! way fetching fails. Also `pookie python-versions` and `pookie targets`.

mod support;

use serde_json::Value;
use support::http::{Request, Response, Server, closed_port};
use support::{Workspace, fixture_sums, flat, stderr_of, stdout_of, toml_str};

/// A mirror of the fixture release at `<server>/pbs`; anything else is a 404.
fn mirror_server() -> Server {
    let sums = fixture_sums();
    Server::start(move |r: &Request| match r.path.as_str() {
        "/pbs/SHA256SUMS" => Response::ok(sums.clone()),
        _ => Response::status(404),
    })
}

fn workspace_with_mirror(mirror: &str, extra: &str) -> Workspace {
    Workspace::with_config(&format!("{extra}\n[python]\nmirror = {}\n", toml_str(mirror)))
}

/// The index files in the workspace's cache directory.
fn cached_indexes(ws: &Workspace) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(ws.cache.path().join("python-index")) {
        Ok(d) => d.map(|e| e.expect("entry").path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Runs pookie and expects success; returns stdout.
fn ok(ws: &Workspace, args: &[&str]) -> String {
    let out = ws.pookie(args).output().expect("pookie runs");
    assert!(out.status.success(), "pookie {args:?} failed:\n{}", stderr_of(&out));
    stdout_of(&out)
}

/// Runs pookie, expects exit code 1 (a failure while working, not bad input) and returns the
/// unwrapped diagnostic.
fn fails(ws: &Workspace, args: &[&str]) -> String {
    let out = ws.pookie(args).output().expect("pookie runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "expected exit code 1 from {args:?}; stderr:\n{stderr}");
    assert_eq!(stdout_of(&out), "", "a failed plan printed on stdout");
    assert!(!ws.path().join(".pookie").exists(), "a failed plan created .pookie/");
    flat(&stderr)
}

#[test]
fn url_mirror_is_fetched_once_and_cached() {
    let server = mirror_server();
    let mirror = format!("{}/pbs", server.url());
    let ws = workspace_with_mirror(&mirror, "targets = [\"manylinux_2_17_x86_64\", \"win_amd64\"]");

    let json: Value = serde_json::from_str(&ok(&ws, &["plan", "--format", "json"])).expect("JSON plan");
    assert_eq!(json["python_release"], "20260814");
    let urls: Vec<&str> = json["images"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["context"].as_array().unwrap())
        .filter_map(|c| c["url"].as_str())
        .collect();
    assert!(!urls.is_empty(), "no archives in the plan");
    for url in &urls {
        assert!(url.starts_with(&format!("{mirror}/cpython-3.1")), "archive not from the mirror: {url}");
    }
    assert!(
        urls.contains(
            &format!("{mirror}/cpython-3.14.7%2B20260814-x86_64-pc-windows-msvc-install_only_stripped.tar.gz").as_str()
        ),
        "{urls:?}"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("GET", "/pbs/SHA256SUMS"));
    assert!(requests[0].header("user-agent").is_some_and(|ua| ua.starts_with("pookie/")), "{requests:?}");
    assert_eq!(cached_indexes(&ws).len(), 1, "the index was not cached in POOKIE_CACHE_DIR");

    // A fresh cache answers the next runs without asking the mirror.
    ok(&ws, &["plan"]);
    ok(&ws, &["python-versions"]);
    assert_eq!(server.requests().len(), 1, "the cached index was not used");
}

#[test]
fn offline_reads_the_cache() {
    let mut server = mirror_server();
    let ws = workspace_with_mirror(&format!("{}/pbs", server.url()), "");
    let online = ok(&ws, &["plan", "--format", "json"]);
    server.stop();

    let offline = ok(&ws, &["plan", "--format", "json", "--offline"]);
    assert_eq!(offline, online, "the offline plan differs from the online one");
    assert!(offline.contains("\"python_release\": \"20260814\""));
    let versions = ok(&ws, &["python-versions", "--offline"]);
    assert!(versions.contains("3.14.7"), "{versions}");
}

#[test]
fn offline_without_a_cache_says_how_to_fill_it() {
    let server = mirror_server();
    let ws = workspace_with_mirror(&format!("{}/pbs", server.url()), "");
    let text = fails(&ws, &["plan", "--offline"]);
    assert!(text.contains("no cached python-build-standalone index"), "{text}");
    assert!(text.contains("run once without --offline to fill the cache"), "{text}");
    assert!(server.requests().is_empty(), "--offline went to the network");
    assert!(cached_indexes(&ws).is_empty());
}

#[test]
fn rate_limits_suggest_a_token() {
    for (name, response) in [
        ("403 with no requests left", Response::status(403).header("x-ratelimit-remaining", "0")),
        ("429", Response::status(429).header("retry-after", "60")),
    ] {
        let response = std::sync::Mutex::new(Some(response));
        let server = Server::start(move |_| response.lock().unwrap().take().unwrap_or(Response::status(500)));
        let ws = workspace_with_mirror(&format!("{}/pbs", server.url()), "");
        let text = fails(&ws, &["plan"]);
        assert!(text.contains("/pbs/SHA256SUMS answered HTTP"), "{name}: {text}");
        assert!(text.contains("rate limited"), "{name}: {text}");
        assert!(text.contains("set GITHUB_TOKEN"), "{name}: {text}");
        assert!(text.contains("--offline"), "{name}: {text}");
        assert!(text.contains("pookie::python::rate_limited"), "{name}: {text}");
    }
}

#[test]
fn forbidden_without_rate_limit_is_not_called_one() {
    let server = Server::start(|_| Response::status(403).header("x-ratelimit-remaining", "42"));
    let ws = workspace_with_mirror(&format!("{}/pbs", server.url()), "");
    let text = fails(&ws, &["plan"]);
    assert!(text.contains("answered HTTP 403"), "{text}");
    assert!(!text.contains("rate limited"), "{text}");
}

#[test]
fn missing_file_points_at_the_mirror() {
    let server = mirror_server();
    let ws = workspace_with_mirror(&format!("{}/elsewhere", server.url()), "");
    let text = fails(&ws, &["plan"]);
    assert!(text.contains(&format!("{}/elsewhere/SHA256SUMS answered HTTP 404", server.url())), "{text}");
    assert!(text.contains("check `[python] mirror` (it must hold SHA256SUMS and the archives)"), "{text}");
}

#[test]
fn server_errors_say_retry() {
    let server = Server::start(|_| Response::status(500));
    let ws = workspace_with_mirror(&format!("{}/pbs", server.url()), "");
    let text = fails(&ws, &["plan"]);
    assert!(text.contains("answered HTTP 500"), "{text}");
    assert!(text.contains("retry later"), "{text}");
}

#[test]
fn unreachable_mirror_gives_the_network_hint() {
    let url = format!("http://127.0.0.1:{}/pbs", closed_port());
    let ws = workspace_with_mirror(&url, "");
    let text = fails(&ws, &["plan"]);
    assert!(text.contains(&format!("could not reach {url}/SHA256SUMS")), "{text}");
    assert!(text.contains("check the network, set `[python] mirror`"), "{text}");
    assert!(text.contains("--offline"), "{text}");
    assert!(text.contains("pookie::python::network"), "{text}");
}

#[test]
fn mirror_directory_without_a_release() {
    // (A directory that does not exist is bad input: tests/config_errors.rs.)
    let ws = workspace_with_mirror("no-such-mirror", "");
    std::fs::create_dir_all(ws.path().join("no-such-mirror")).unwrap();
    let text = fails(&ws, &["plan"]);
    assert!(text.contains("no-such-mirror/SHA256SUMS"), "{text}");
    assert!(text.contains("a mirror directory holds a release's SHA256SUMS"), "{text}");
}

#[test]
fn github_token_is_not_sent_to_a_mirror() {
    let server = mirror_server();
    let ws = workspace_with_mirror(&format!("{}/pbs", server.url()), "");
    let out = ws.pookie(&["plan"]).env("GITHUB_TOKEN", "ghp_secret_for_github_only").output().expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    for r in &requests {
        assert_eq!(r.header("authorization"), None, "the token went to the mirror: {r:?}");
        assert!(!format!("{r:?}").contains("ghp_secret"), "the token went to the mirror: {r:?}");
    }
}

#[test]
fn named_versions_plan_without_the_index() {
    let url = format!("http://127.0.0.1:{}/pbs", closed_port());
    let ws = Workspace::with_config(&format!(
        "targets = [\"manylinux_2_17_x86_64\", \"win_amd64\"]\n[python]\nversions = [\"3.12\", \"3.13\"]\nmirror = {}\n",
        toml_str(&url)
    ));

    let out = ws.pookie(&["plan", "--format", "json"]).output().expect("runs");
    assert!(out.status.success(), "plan failed without the index:\n{}", stderr_of(&out));
    let stderr = flat(&stderr_of(&out));
    assert!(stderr.contains("warning: could not reach"), "{stderr}");
    assert!(stderr.contains("planning without the python-build-standalone index"), "{stderr}");

    let v: Value = serde_json::from_str(&stdout_of(&out)).expect("JSON plan");
    assert_eq!(v["python_release"], Value::Null);
    let warnings = v["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w.as_str().is_some_and(|w| w.contains("unresolved") && w.contains("cp312-win_amd64"))),
        "no warning about unresolved versions: {warnings:?}"
    );
    let images = v["images"].as_array().unwrap();
    let python: Vec<&Value> = images.iter().filter(|i| i["layer"] == "python").collect();
    assert_eq!(python.len(), 4, "one Python layer per target and version");
    for i in &python {
        assert_eq!(i["tag"], Value::Null, "unresolved Python layer has a tag: {i}");
        assert_eq!(i["context"], serde_json::json!([]), "unresolved Python layer has archives: {i}");
    }
    for i in images.iter().filter(|i| i["layer"] != "python") {
        assert!(i["tag"].is_string(), "base and toolchain layers need no index: {i}");
    }
    assert_eq!(v["jobs"].as_array().unwrap().len(), 4);

    // The text view says so too.
    let text = ok(&ws, &["plan"]);
    assert!(text.contains("(unresolved)"), "{text}");
    assert!(text.contains("unresolved; `pookie run` needs the index"), "{text}");
}

#[test]
fn default_versions_need_the_index() {
    let url = format!("http://127.0.0.1:{}/pbs", closed_port());
    let ws = workspace_with_mirror(&url, "");
    let text = fails(&ws, &["plan"]);
    assert!(text.contains("could not reach"), "{text}");
}

#[test]
fn python_versions_lists_the_newest_patch_per_minor() {
    let server = mirror_server();
    let ws = workspace_with_mirror(&format!("{}/pbs", server.url()), "");
    let out = ok(&ws, &["python-versions"]);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(format!("python-build-standalone 20260814 ({}/pbs)", server.url()).as_str()));
    assert!(lines.next().is_some_and(|h| h.starts_with("TARGET")), "{out}");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 10, "one row per target:\n{out}");
    let all = ["3.10.21", "3.11.16", "3.12.14", "3.13.15", "3.13.15t", "3.14.7", "3.14.7t", "3.15.0rc1", "3.15.0rc1t"];
    for row in &rows {
        // Pre-releases are listed: this command shows what exists, not what a build would use;
        // free-threaded builds (`t`) beside their minor's default one.
        assert_eq!(&row[2..], all, "{}: {out}", row[0]);
    }
    assert_eq!(rows[0][..2], ["manylinux_2_17_x86_64", "x86_64-unknown-linux-gnu"]);
    assert_eq!(rows[7][..2], ["win_amd64", "x86_64-pc-windows-msvc"]);

    let one = ok(&ws, &["python-versions", "--target", "macosx_11_0_arm64"]);
    let rows: Vec<&str> = one.lines().skip(2).collect();
    assert_eq!(rows.len(), 1, "{one}");
    assert!(rows[0].starts_with("macosx_11_0_arm64") && rows[0].contains("aarch64-apple-darwin"), "{one}");
    assert!(rows[0].ends_with("3.14.7t 3.15.0rc1 3.15.0rc1t"), "{one}");
}

#[test]
fn targets_lists_the_catalog() {
    let ws = Workspace::new();
    let out = ok(&ws, &["targets"]);
    let (table, policies) = out.split_once("\n\n").expect("the table, then the policies");
    assert!(policies.contains("2_17, 2_24") && policies.contains("2_41"), "{policies}");
    let names: Vec<&str> = table.lines().skip(1).filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(
        names,
        [
            "manylinux_2_17_x86_64",
            "manylinux_2_17_aarch64",
            "manylinux_2_17_armv7l",
            "manylinux_2_17_ppc64le",
            "manylinux_2_17_s390x",
            "manylinux_2_17_i686",
            "manylinux_2_31_riscv64",
            "musllinux_1_2_x86_64",
            "musllinux_1_2_aarch64",
            "musllinux_1_2_armv7l",
            "musllinux_1_2_ppc64le",
            "musllinux_1_2_s390x",
            "musllinux_1_2_i686",
            "musllinux_1_2_riscv64",
            "win_amd64",
            "win_arm64",
            "macosx_11_0_x86_64",
            "macosx_11_0_arm64",
            "macosx_11_0_universal2",
        ]
    );
    let row = |t: &str| out.lines().find(|l| l.starts_with(t)).expect("row").split_whitespace().collect::<Vec<_>>();
    assert_eq!(row("win_amd64").last(), Some(&"wine"));
    assert_eq!(row("manylinux_2_17_s390x").last(), Some(&"qemu"));
    assert_eq!(
        row("manylinux_2_31_riscv64")[5..],
        ["riscv64-unknown-linux-gnu", "no", "no", "riscv64-linux-gnu.2.31", "yes", "qemu"]
    );
    assert_eq!(
        row("manylinux_2_17_i686")[5..],
        ["-", "(source", "=", "\"image\")", "no", "no", "x86-linux-gnu.2.17", "no", "native"]
    );
    assert!(row("macosx_11_0_arm64").ends_with(&["not", "runnable", "on", "Linux"]));
    assert_eq!(row("macosx_11_0_universal2")[2], "x86_64+aarch64");
    assert_eq!(row("macosx_11_0_universal2")[8..11], ["x86_64-macos.11.0", "+", "aarch64-macos.11.0"]);
    assert!(out.lines().next().is_some_and(|h| h.starts_with("TARGET") && h.contains("TESTS")), "{out}");
}

/// Free-threaded versions are named (`"3.14t"`), never defaulted; a cross build of one pairs
/// the target's freethreaded archive with the x86_64 freethreaded archive of the same version,
/// and its identifiers and layers say `cp314t`.
#[test]
fn free_threaded_versions_plan_with_freethreaded_archives_on_both_sides() {
    let server = mirror_server();
    let url = format!("{}/pbs", server.url());
    let ws = Workspace::with_config(&format!(
        "targets = [\"manylinux_2_17_aarch64\"]\n[python]\nversions = [\"3.14\", \"3.14t\"]\nmirror = {}\n",
        toml_str(&url)
    ));
    let plan: serde_json::Value = serde_json::from_str(&ok(&ws, &["plan", "--format", "json"])).expect("json");
    let ids: std::collections::BTreeSet<&str> =
        plan["jobs"].as_array().unwrap().iter().map(|j| j["build_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["cp314-manylinux_2_17_aarch64", "cp314t-manylinux_2_17_aarch64"].into_iter().collect());
    let layer = plan["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "python/linux-x86_64/zig/cp314t/manylinux_2_17_aarch64")
        .expect("the free-threaded cross layer");
    let archives: Vec<(&str, &str, &str)> = layer["context"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["python"].as_str().unwrap(), c["triple"].as_str().unwrap(), c["url"].as_str().unwrap()))
        .collect();
    assert_eq!(
        archives.iter().map(|a| (a.0, a.1)).collect::<Vec<_>>(),
        [("3.14.7t", "aarch64-unknown-linux-gnu"), ("3.14.7t", "x86_64-unknown-linux-gnu")],
        "{layer}"
    );
    assert!(archives.iter().all(|a| a.2.ends_with("-freethreaded-install_only_stripped.tar.gz")), "{layer}");
    assert_eq!(layer["args"]["PYTHON_VERSION"], "3.14t");
    // Without versions, the defaults have the GIL.
    let ws = workspace_with_mirror(&url, "targets = [\"manylinux_2_17_x86_64\"]");
    let text = ok(&ws, &["plan"]);
    assert!(text.starts_with("1 target × 4 Python versions (3.11, 3.12, 3.13, 3.14)"), "{text}");
}

/// A universal2 build is one job that builds each slice with that slice's zig target and
/// platform (POOKIE_SLICES, read by job.sh), over the zig layers of both; it uses the arm64
/// CPython's headers. Globs pick it only where they name it.
#[test]
fn universal2_plans_one_job_over_both_slices() {
    let u2_workspace = |url: &str, target: &str| {
        Workspace::with_config(&format!(
            "targets = [\"{target}\"]\n[python]\nversions = [\"3.13\"]\nmirror = {}\n",
            toml_str(url)
        ))
    };
    let server = mirror_server();
    let url = format!("{}/pbs", server.url());
    let ws = u2_workspace(&url, "macosx_11_0_universal2");
    let plan: serde_json::Value = serde_json::from_str(&ok(&ws, &["plan", "--format", "json"])).expect("json");
    let jobs = plan["jobs"].as_array().unwrap();
    let build = jobs.iter().find(|j| j["stage"] == "build").expect("a build job");
    assert_eq!(build["build_id"], "cp313-macosx_11_0_universal2");
    assert_eq!(
        build["env"]["POOKIE_SLICES"],
        "x86_64-macos.11.0,macosx-11.0-x86_64,macosx_11_0_x86_64 aarch64-macos.11.0,macosx-11.0-arm64,macosx_11_0_arm64"
    );
    assert_eq!(build["env"]["POOKIE_PLATFORM"], "macosx_11_0_universal2");
    let names: Vec<&str> = plan["images"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    // Both slices' zig runtimes come from the zig cache bucket: no layer per zig target.
    assert!(names.iter().all(|n| !n.starts_with("toolchain/linux-x86_64/zig/")), "{names:?}");
    let cross = plan["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "python/linux-x86_64/zig/cp313/macosx_11_0_universal2")
        .expect("the cross layer");
    let triples: Vec<&str> =
        cross["context"].as_array().unwrap().iter().map(|c| c["triple"].as_str().unwrap()).collect();
    assert_eq!(triples, ["aarch64-apple-darwin", "x86_64-unknown-linux-gnu"], "{cross}");
    // `macosx_*` means the thin targets; universal2 only when named.
    let ws = u2_workspace(&url, "macosx_*");
    let text = ok(&ws, &["plan"]);
    assert!(text.contains("cp313-macosx_11_0_arm64") && !text.contains("universal2"), "{text}");
    let ws = u2_workspace(&url, "macosx_*_universal2");
    assert!(ok(&ws, &["plan"]).contains("cp313-macosx_11_0_universal2"));
}
