//! JUnit XML of a run, the report format CI systems show natively (GitHub, GitLab, Jenkins):
//! one test suite per build identifier with its build and test jobs as test cases, and one for
//! the image layers. A failed job is a `<failure>` with its reason and log; a job that did not
//! run, or a test that could not run here, is `<skipped>` with why; an interrupted one is an
//! `<error>`.

use super::{JsonReport, NodeKind, NodeReport, Status};
use std::collections::BTreeMap;
use std::fmt::Write;

/// `text` as XML attribute or element content: the five special characters escaped, and the
/// control characters XML 1.0 cannot hold left out (a reason may quote a log line).
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

enum Outcome {
    Pass,
    Failure,
    Skipped,
    Error,
}

fn outcome(status: Status) -> Outcome {
    match status {
        Status::Passed | Status::Built | Status::Cached | Status::Pulled => Outcome::Pass,
        Status::Failed => Outcome::Failure,
        Status::Interrupted => Outcome::Error,
        Status::Skipped
        | Status::NotRunnable
        | Status::NoWindowsPython
        | Status::EmulationLimit
        | Status::TestSkipped => Outcome::Skipped,
    }
}

fn case(out: &mut String, suite: &str, name: &str, r: &NodeReport) {
    let _ = write!(out, "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"", xml(suite), xml(name), r.seconds);
    let why = || {
        let mut why = r.reason.clone().unwrap_or_else(|| r.status.label().to_string());
        if let Some(log) = &r.log {
            why.push_str(&format!(" (log: {})", log.display()));
        }
        why
    };
    match outcome(r.status) {
        Outcome::Pass => out.push_str("/>\n"),
        Outcome::Failure => {
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                xml(&why()),
                xml(&why())
            );
        }
        Outcome::Error => {
            let _ = writeln!(out, ">\n      <error message=\"{}\"/>\n    </testcase>", xml(&why()));
        }
        Outcome::Skipped => {
            let _ = writeln!(out, ">\n      <skipped message=\"{}\"/>\n    </testcase>", xml(&why()));
        }
    }
}

/// The report as a JUnit XML document.
pub fn junit(report: &JsonReport) -> String {
    let mut suites: BTreeMap<String, Vec<(&str, &NodeReport)>> = BTreeMap::new();
    for n in &report.nodes {
        match (n.kind, &n.build_id, n.stage) {
            (NodeKind::Job, Some(id), Some(stage)) => suites.entry(id.clone()).or_default().push((stage.as_str(), n)),
            _ => suites.entry("images".into()).or_default().push((n.name.as_str(), n)),
        }
    }
    let count = |cases: &[(&str, &NodeReport)], f: fn(&Outcome) -> bool| {
        cases.iter().filter(|(_, r)| f(&outcome(r.status))).count()
    };
    let all: Vec<(&str, &NodeReport)> = suites.values().flatten().copied().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"pookie {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        xml(&report.run_id),
        all.len(),
        count(&all, |o| matches!(o, Outcome::Failure)),
        count(&all, |o| matches!(o, Outcome::Error)),
        count(&all, |o| matches!(o, Outcome::Skipped)),
        report.seconds
    );
    for (suite, cases) in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            xml(suite),
            cases.len(),
            count(cases, |o| matches!(o, Outcome::Failure)),
            count(cases, |o| matches!(o, Outcome::Error)),
            count(cases, |o| matches!(o, Outcome::Skipped)),
            cases.iter().map(|(_, r)| r.seconds).sum::<f64>()
        );
        for (name, r) in cases {
            case(&mut out, suite, name, r);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Stage;

    fn job(id: &str, stage: Stage, status: Status, reason: Option<&str>) -> NodeReport {
        let log = Some(format!(".pookie/logs/{id}-{}.log", stage.as_str()).into());
        NodeReport { seconds: 2.5, log, ..crate::report::tests::job(id, stage, status, reason) }
    }

    #[test]
    fn failures_and_skips_are_what_ci_systems_read() {
        let nodes = vec![
            job("cp312-win_amd64", Stage::Build, Status::Passed, None),
            job("cp312-win_amd64", Stage::Test, Status::Failed, Some("exit 1: assert 1 < 0 & \u{1b}[31mred")),
            job("cp313-macosx_11_0_arm64", Stage::Test, Status::NotRunnable, None),
        ];
        let xml = junit(&JsonReport::new("r1", 9.0, nodes));
        assert!(xml.starts_with("<?xml"), "{xml}");
        assert!(
            xml.contains("<testsuites name=\"pookie r1\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""),
            "{xml}"
        );
        assert!(xml.contains("<testsuite name=\"cp312-win_amd64\" tests=\"2\" failures=\"1\""), "{xml}");
        // Escaped, the terminal's escape character dropped, the log named.
        assert!(
            xml.contains("exit 1: assert 1 &lt; 0 &amp; [31mred (log: .pookie/logs/cp312-win_amd64-test.log)"),
            "{xml}"
        );
        assert!(xml.contains("<skipped message=\"not runnable on Linux"), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert_eq!(xml.matches("</testsuite>").count(), 2);
    }
}
