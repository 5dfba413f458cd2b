//! `pookie plan` views of a plan: a readable text tree and table, JSON with stable fields
//! (documented in README.md), and Graphviz DOT.

use super::{ContextFile, ImageNode, Node, Plan, Runner};
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Version of the JSON layout; bumped when a field changes meaning or disappears.
pub const JSON_FORMAT: u32 = 1;

pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let jobs: Vec<_> = plan.jobs().map(|(_, j)| j).collect();
    let builds = jobs.iter().filter(|j| j.stage == super::Stage::Build).count();
    let tests: Vec<_> = jobs.iter().filter(|j| j.stage == super::Stage::Test).collect();
    let not_runnable = tests.iter().filter(|j| matches!(j.runner, Runner::NotRunnable { .. })).count();
    let skipped = tests.iter().filter(|j| matches!(j.runner, Runner::Skipped { .. })).count();
    let targets: BTreeSet<_> = jobs.iter().map(|j| j.id.target).collect();
    let pythons: BTreeSet<_> = jobs.iter().map(|j| j.id.python).collect();
    let _ = writeln!(
        out,
        "{} target{} × {} Python version{} ({}): {} builds, {} tests{}",
        targets.len(),
        plural(targets.len()),
        pythons.len(),
        plural(pythons.len()),
        pythons.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "),
        builds,
        tests.len(),
        match (not_runnable, skipped) {
            (0, 0) => String::new(),
            (n, 0) => format!(" ({n} not runnable on Linux)"),
            (0, k) => format!(" ({k} skipped by test-skip)"),
            (n, k) => format!(" ({n} not runnable on Linux, {k} skipped by test-skip)"),
        },
    );
    if let Some(r) = &plan.release {
        let _ = writeln!(out, "Python from python-build-standalone {r}");
    }
    if let Some(m) = &plan.machine {
        let keys: Vec<String> = m.keys.iter().map(|k| k.to_string()).collect();
        let _ = writeln!(out, "From the machine's configuration {}: {}", m.file.display(), keys.join(", "));
    }

    let images: Vec<_> = plan.images().collect();
    let _ = writeln!(out, "\nImages ({} layers)", images.len());
    let mut roots: Vec<&str> = images
        .iter()
        .filter(|(i, _)| parent_image(plan, *i).is_none())
        .filter_map(|(_, n)| n.from.as_deref())
        .collect();
    roots.dedup();
    let mut seen = BTreeSet::new();
    for root in roots {
        if !seen.insert(root) {
            continue;
        }
        let _ = writeln!(out, "  {root}");
        let children: Vec<NodeIndex> = images
            .iter()
            .filter(|(i, n)| parent_image(plan, *i).is_none() && n.from.as_deref() == Some(root))
            .map(|(i, _)| *i)
            .collect();
        tree(plan, &children, "  ", &mut out);
    }

    let _ = writeln!(out, "\nJobs");
    let rows: Vec<[String; 5]> = plan
        .jobs()
        .map(|(i, j)| {
            let after = match j.runner.not_run_reason() {
                Some(reason) => format!("({reason})"),
                None => plan.dependencies(i).join(", "),
            };
            [j.id.to_string(), j.stage.as_str().to_string(), j.runner.label(), after, String::new()]
        })
        .collect();
    let header = ["BUILD ID", "STAGE", "RUNS", "AFTER", ""];
    let widths: Vec<usize> =
        (0..3).map(|c| rows.iter().map(|r| r[c].chars().count()).chain([header[c].len()]).max().unwrap_or(0)).collect();
    let line = |r: &[&str]| {
        format!("  {:w0$}  {:w1$}  {:w2$}  {}", r[0], r[1], r[2], r[3], w0 = widths[0], w1 = widths[1], w2 = widths[2])
    };
    let _ = writeln!(out, "{}", line(&header[..4]).trim_end());
    for r in &rows {
        let _ = writeln!(out, "{}", line(&[&r[0], &r[1], &r[2], &r[3]]).trim_end());
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "\nwarning: {w}");
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn parent_image(plan: &Plan, i: NodeIndex) -> Option<NodeIndex> {
    plan.graph.neighbors_directed(i, Direction::Incoming).find(|p| matches!(plan.graph[*p], Node::Image(_)))
}

fn child_images(plan: &Plan, i: NodeIndex) -> Vec<NodeIndex> {
    let mut v: Vec<NodeIndex> = plan
        .graph
        .neighbors_directed(i, Direction::Outgoing)
        .filter(|c| matches!(plan.graph[*c], Node::Image(_)))
        .collect();
    v.sort();
    v
}

fn tree(plan: &Plan, nodes: &[NodeIndex], prefix: &str, out: &mut String) {
    for (k, &i) in nodes.iter().enumerate() {
        let last = k + 1 == nodes.len();
        let Node::Image(n) = &plan.graph[i] else { continue };
        let _ = writeln!(
            out,
            "{prefix}{}{}  {}{}",
            if last { "└─ " } else { "├─ " },
            n.name,
            n.tag.as_deref().unwrap_or("(unresolved)"),
            describe(n)
        );
        let deeper = format!("{prefix}{}", if last { "   " } else { "│  " });
        tree(plan, &child_images(plan, i), &deeper, out);
    }
}

fn describe(n: &ImageNode) -> String {
    if let Some(ContextFile::Project { files, .. }) =
        n.context.iter().find(|c| matches!(c, ContextFile::Project { .. }))
    {
        return format!("  (before-all, reading {} file(s) of the project)", files.len());
    }
    let versions: Vec<String> = n
        .context
        .iter()
        .filter_map(|c| match c {
            ContextFile::Archive { archive, .. } => Some(format!(
                "CPython {}{} {}",
                archive.version,
                if archive.free_threaded { " free-threaded" } else { "" },
                archive.triple
            )),
            ContextFile::CaBundle { .. } | ContextFile::Project { .. } => None,
        })
        .collect();
    if versions.is_empty() {
        match (n.args.get("PYTHON_SOURCE").map(String::as_str), n.args.get("TARGET_IMAGE")) {
            (Some("image"), Some(target)) => {
                format!("  (image's {} + the target's headers from {target})", n.args["PYTHON_PATH"])
            }
            (Some("image"), None) => format!("  (image's {})", n.args["PYTHON_PATH"]),
            _ => String::new(),
        }
    } else {
        format!("  ({})", versions.join(" + "))
    }
}

pub fn json(plan: &Plan) -> String {
    let images: Vec<Value> = plan
        .images()
        .map(|(i, n)| {
            let context: Vec<Value> = n
                .context
                .iter()
                .map(|c| match c {
                    ContextFile::Archive { path, archive } => json!({
                        "path": path, "kind": "python-archive", "url": archive.url, "sha256": archive.sha256,
                        // `3.14.7t` for a free-threaded build, as `pookie python-versions` says it.
                        "python": format!("{}{}", archive.version, archive.python().abiflags()), "triple": archive.triple,
                    }),
                    ContextFile::CaBundle { path, source, sha256 } => json!({
                        "path": path, "kind": "ca-bundle", "source": source, "sha256": sha256,
                    }),
                    ContextFile::Project { path, files, sha256, .. } => json!({
                        "path": path, "kind": "project-files", "files": files, "sha256": sha256,
                    }),
                })
                .collect();
            json!({
                "name": n.name, "layer": n.layer, "family": n.family, "arch": n.arch, "recipe": n.recipe.name,
                "from": n.from, "tag": n.tag, "args": n.args, "context": context, "sources": n.sources,
                "depends_on": plan.dependencies(i),
            })
        })
        .collect();
    let jobs: Vec<Value> = plan
        .jobs()
        .map(|(i, j)| {
            let reason = j.runner.not_run_reason();
            json!({
                "name": j.name, "build_id": j.id, "target": j.id.target, "python": j.id.python,
                "stage": j.stage, "image": j.image, "install_image": j.install_image, "runner": j.runner.label(), "runnable": reason.is_none(),
                "reason": reason, "command": j.command, "before": j.before, "env_pass": j.env_pass, "test_requires": j.test_requires, "env": j.env,
                "dir": j.dir, "log": j.log, "mounts": j.mounts, "repair": j.repair, "abi3": j.abi3, "output_dir": j.output_dir,
                "timeout_secs": j.timeout_secs, "depends_on": plan.dependencies(i),
            })
        })
        .collect();
    let v = json!({
        "format": JSON_FORMAT,
        "python_release": plan.release,
        "images": images,
        "jobs": jobs,
        "warnings": plan.warnings,
        "machine_settings": plan.machine.as_ref().map(|m| json!({"file": m.file, "keys": m.keys})),
    });
    let mut s = serde_json::to_string_pretty(&v).expect("plan serializes");
    s.push('\n');
    s
}

pub fn dot(plan: &Plan) -> String {
    let mut out = String::from("digraph pookie {\n  rankdir=LR;\n  node [fontname=\"monospace\", fontsize=10];\n");
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let q = |s: &str| format!("\"{}\"", esc(s));
    // A label of several lines: each escaped, joined by DOT's own line break `\n` (which `q`
    // would turn into a literal backslash).
    let lines = |l: &[&str]| format!("\"{}\"", l.iter().map(|s| esc(s)).collect::<Vec<_>>().join("\\n"));
    let mut externals = BTreeSet::new();
    for i in plan.graph.node_indices() {
        match &plan.graph[i] {
            Node::Image(n) => {
                let label = lines(&[&n.name, n.tag.as_deref().unwrap_or("(unresolved)")]);
                let _ =
                    writeln!(out, "  {} [shape=box, style=filled, fillcolor=\"#dde8f5\", label={label}];", q(&n.name));
                if let (None, Some(from)) = (parent_image(plan, i), &n.from) {
                    if externals.insert(from.clone()) {
                        let _ = writeln!(out, "  {} [shape=cylinder];", q(from));
                    }
                    let _ = writeln!(out, "  {} -> {};", q(from), q(&n.name));
                }
            }
            Node::Job(j) => {
                let (style, runs) = match j.runner.not_run_reason() {
                    Some(reason) => ("dashed", reason.to_string()),
                    None => ("solid", j.runner.label()),
                };
                let label = lines(&[&format!("{} {}", j.id, j.stage.as_str()), &runs]);
                let _ = writeln!(out, "  {} [shape=ellipse, style={style}, label={label}];", q(&j.name));
            }
        }
    }
    for e in plan.graph.edge_indices() {
        let (a, b) = plan.graph.edge_endpoints(e).expect("edge has ends");
        let _ = writeln!(out, "  {} -> {};", q(plan.graph[a].name()), q(plan.graph[b].name()));
    }
    out.push_str("}\n");
    out
}

/// The shards of `plan` split `count` ways (plan/shard.rs), each with its builds (build
/// identifiers), its jobs and its estimated cost.
fn shard_list(plan: &Plan, count: usize) -> Vec<serde_json::Value> {
    super::shard::partition(plan, count)
        .into_iter()
        .enumerate()
        .map(|(i, groups)| {
            let mut builds: Vec<String> = groups
                .iter()
                .filter_map(|g| match &plan.graph[g.build] {
                    Node::Job(j) => Some(j.id.to_string()),
                    Node::Image(_) => None,
                })
                .collect();
            builds.sort();
            serde_json::json!({
                "shard": format!("{}/{count}", i + 1),
                "builds": builds,
                "jobs": groups.iter().map(|g| g.jobs.len()).sum::<usize>(),
                "weight": groups.iter().map(|g| g.weight).sum::<u64>(),
            })
        })
        .collect()
}

/// The shards as a JSON list.
pub fn shards(plan: &Plan, count: usize) -> String {
    let mut s = serde_json::to_string_pretty(&shard_list(plan, count)).expect("JSON");
    s.push('\n');
    s
}

/// The shards as a GitHub Actions matrix on one line (`matrix=...` in `$GITHUB_OUTPUT`, then
/// `strategy.matrix: ${{ fromJSON(...) }}` and `pookie run --shard ${{ matrix.shard }}`).
pub fn github_matrix(plan: &Plan, count: usize) -> String {
    let mut s = serde_json::json!({ "include": shard_list(plan, count) }).to_string();
    s.push('\n');
    s
}
