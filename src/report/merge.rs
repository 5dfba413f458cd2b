//! `pookie report merge`: the `--report` files of the shards of one plan (`--shard K/N` on
//! several runners) made into the report of the whole run. Every job is in exactly one shard;
//! image layers are built by every shard that needs them, so a layer appears once, failed if it
//! failed anywhere, else built if any shard built it.

use super::{JsonReport, NodeKind, NodeReport, Status};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum MergeError {
    #[error("cannot read {}", path.display())]
    #[diagnostic(code(pookie::report))]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not a pookie report", path.display())]
    #[diagnostic(code(pookie::report), help("pass the files `pookie run --report FILE` wrote"))]
    NotAReport { path: PathBuf, source: serde_json::Error },
    #[error("{} is a report of format {format}; this pookie reads format {}", path.display(), JsonReport::FORMAT)]
    #[diagnostic(code(pookie::report), help("merge reports written by the same pookie version"))]
    Format { path: PathBuf, format: u32 },
    #[error("job {job} is in both {} and {}", first.display(), second.display())]
    #[diagnostic(
        code(pookie::report),
        help("merge the reports of the shards of one plan (`--shard K/N` with the same N), each once")
    )]
    Overlap { job: String, first: PathBuf, second: PathBuf },
}

/// Reads the reports at `paths` and merges them.
pub fn merge_files(paths: &[PathBuf]) -> Result<JsonReport, MergeError> {
    let mut reports = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|source| MergeError::Read { path: path.clone(), source })?;
        let report: JsonReport =
            serde_json::from_str(&text).map_err(|source| MergeError::NotAReport { path: path.clone(), source })?;
        if report.format != JsonReport::FORMAT {
            return Err(MergeError::Format { path: path.clone(), format: report.format });
        }
        reports.push((path.clone(), report));
    }
    merge(reports)
}

/// One report of the shards' reports: their jobs (each once), their image layers (once per
/// layer), the slowest shard's wall time, and `passed` recomputed from the whole.
pub fn merge(reports: Vec<(PathBuf, JsonReport)>) -> Result<JsonReport, MergeError> {
    let mut images: BTreeMap<String, NodeReport> = BTreeMap::new();
    let mut jobs: Vec<NodeReport> = Vec::new();
    let mut owner: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut seconds: f64 = 0.0;
    let mut run_ids = Vec::new();
    for (path, report) in reports {
        seconds = seconds.max(report.seconds);
        run_ids.push(report.run_id);
        for node in report.nodes {
            match node.kind {
                NodeKind::Job => {
                    if let Some(first) = owner.insert(node.name.clone(), path.clone()) {
                        return Err(MergeError::Overlap { job: node.name, first, second: path });
                    }
                    jobs.push(node);
                }
                NodeKind::Image => match images.get_mut(&node.name) {
                    Some(kept) if rank(node.status) > rank(kept.status) => *kept = node,
                    Some(_) => {}
                    None => {
                        images.insert(node.name.clone(), node);
                    }
                },
            }
        }
    }
    let mut nodes: Vec<NodeReport> = images.into_values().collect();
    nodes.sort_by(|a, b| a.started_at.total_cmp(&b.started_at).then_with(|| a.name.cmp(&b.name)));
    jobs.sort_by(|a, b| a.name.cmp(&b.name));
    nodes.extend(jobs);
    Ok(JsonReport::new(&run_ids.join("+"), seconds, nodes))
}

/// Which of two reports of one layer the merged report keeps: a failure anywhere, else a build.
fn rank(status: Status) -> u8 {
    match status {
        Status::Failed => 3,
        Status::Interrupted => 2,
        Status::Built | Status::Pulled => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Stage;

    /// The report of `name` (`ID/build` and `ID/test` are jobs, other names image layers).
    fn node(name: &str, kind: NodeKind, status: Status) -> NodeReport {
        let job = match name.split_once('/') {
            Some((id, "build")) => crate::report::tests::job(id, Stage::Build, status, None),
            Some((id, _)) => crate::report::tests::job(id, Stage::Test, status, None),
            None => unreachable!("names with a stage"),
        };
        match kind {
            NodeKind::Job => job,
            NodeKind::Image => NodeReport { name: name.into(), kind, build_id: None, stage: None, ..job },
        }
    }

    fn report(id: &str, seconds: f64, nodes: Vec<NodeReport>) -> (PathBuf, JsonReport) {
        (PathBuf::from(format!("{id}.json")), JsonReport::new(id, seconds, nodes))
    }

    #[test]
    fn shards_merge_into_one_run() {
        let one = report(
            "a",
            30.0,
            vec![
                node("base/linux-x86_64", NodeKind::Image, Status::Built),
                node("cp312-x/build", NodeKind::Job, Status::Passed),
                node("cp312-x/test", NodeKind::Job, Status::Passed),
            ],
        );
        let two = report(
            "b",
            45.0,
            vec![
                node("base/linux-x86_64", NodeKind::Image, Status::Cached),
                node("cp313-x/build", NodeKind::Job, Status::Passed),
                node("cp313-x/test", NodeKind::Job, Status::Failed),
            ],
        );
        let merged = merge(vec![one, two]).unwrap();
        assert_eq!(merged.seconds, 45.0, "the slowest shard's wall time");
        assert_eq!(merged.run_id, "a+b");
        assert!(!merged.passed, "a failed test anywhere fails the whole");
        let names: Vec<&str> = merged.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["base/linux-x86_64", "cp312-x/build", "cp312-x/test", "cp313-x/build", "cp313-x/test"]);
        assert_eq!(merged.nodes[0].status, Status::Built, "built by one shard, found by the other");
    }

    #[test]
    fn a_job_in_two_reports_is_refused() {
        let one = report("a", 1.0, vec![node("cp312-x/build", NodeKind::Job, Status::Passed)]);
        let again = report("b", 1.0, vec![node("cp312-x/build", NodeKind::Job, Status::Passed)]);
        let err = merge(vec![one, again]).unwrap_err();
        assert!(err.to_string().contains("job cp312-x/build is in both a.json and b.json"), "{err}");
    }
}
