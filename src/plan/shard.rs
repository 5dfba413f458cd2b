//! Splitting a plan into shards for a CI matrix (`--shard K/N`): each shard runs whole builds
//! with their tests (a test never waits for a build in another shard), the image layers those
//! need, and nothing else. Builds go to shards by estimated cost, heaviest first onto the
//! lightest shard (longest-processing-time first), so that the matrix's slowest runner, which
//! decides its wall time, is as fast as the split allows. Pure and deterministic: every runner
//! of the matrix computes the same split from the same plan.

use super::{Node, Plan, Runner, Stage};
use crate::config::Shard;
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, Reversed, Walker};
use std::collections::{BTreeSet, HashMap};

/// A job's estimated cost, in tenths of a native build of a small project. Ratios measured by
/// scripts/bench.sh: a build under QEMU ~8× a cross or native one; tests under QEMU ~5–8× native
/// ones; Wine in between. Coarse on purpose: only the balance of shards depends on it.
pub fn weight(stage: Stage, runner: &Runner) -> u64 {
    match (stage, runner) {
        (_, Runner::NotRunnable { .. } | Runner::Skipped { .. }) => 0,
        (Stage::Build, Runner::Qemu { .. }) => 80,
        (Stage::Build, _) => 10,
        (Stage::Test, Runner::Qemu { .. }) => 30,
        (Stage::Test, Runner::Wine) => 15,
        (Stage::Test, _) => 5,
    }
}

/// A build with the jobs that need it (its tests), and their total weight.
#[derive(Clone, Debug)]
pub struct Group {
    pub build: NodeIndex,
    pub jobs: Vec<NodeIndex>,
    pub weight: u64,
}

/// The builds of `plan` with their tests, split into `count` shards (index 0 is shard 1).
pub fn partition(plan: &Plan, count: usize) -> Vec<Vec<Group>> {
    let mut groups: Vec<Group> = plan
        .jobs()
        .filter(|(_, j)| j.stage == Stage::Build)
        .map(|(build, _)| {
            let mut jobs: Vec<NodeIndex> = Dfs::new(&plan.graph, build).iter(&plan.graph).collect();
            jobs.sort();
            let weight = jobs
                .iter()
                .map(|&i| match &plan.graph[i] {
                    Node::Job(j) => weight(j.stage, &j.runner),
                    Node::Image(_) => 0,
                })
                .sum();
            Group { build, jobs, weight }
        })
        .collect();
    let name = |g: &Group| plan.graph[g.build].name().to_string();
    // Heaviest first; equal weights in name order, so that the split is the same everywhere.
    groups.sort_by(|a, b| b.weight.cmp(&a.weight).then_with(|| name(a).cmp(&name(b))));
    let mut shards: Vec<Vec<Group>> = vec![Vec::new(); count];
    let mut load = vec![0u64; count];
    for g in groups {
        let lightest = (0..count).min_by_key(|&s| (load[s], s)).expect("at least one shard");
        load[lightest] += g.weight;
        shards[lightest].push(g);
    }
    shards
}

/// The part of `plan` that shard `shard` runs: its builds, their tests, and the image layers
/// they need (with their parents). Says in the plan's warnings when the shard got nothing.
pub fn select(plan: Plan, shard: Shard) -> Plan {
    let groups = partition(&plan, shard.count).swap_remove(shard.index - 1);
    let builds = plan.jobs().filter(|(_, j)| j.stage == Stage::Build).count();
    let mut keep: BTreeSet<NodeIndex> = BTreeSet::new();
    for job in groups.iter().flat_map(|g| &g.jobs) {
        keep.extend(Dfs::new(Reversed(&plan.graph), *job).iter(Reversed(&plan.graph)));
    }
    let mut graph = DiGraph::new();
    let mut new_index: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    for &i in &keep {
        new_index.insert(i, graph.add_node(plan.graph[i].clone()));
    }
    for &i in &keep {
        for parent in plan.graph.neighbors_directed(i, Direction::Incoming) {
            graph.add_edge(new_index[&parent], new_index[&i], ());
        }
    }
    let mut warnings = plan.warnings;
    if groups.is_empty() {
        warnings
            .push(format!("shard {shard} has no builds: the plan has {builds}, fewer than its {} shards", shard.count));
    }
    Plan { graph, release: plan.release, warnings, machine: plan.machine }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_rank_emulation_above_native_work() {
        let qemu = Runner::Qemu { arch: crate::target::Arch::Aarch64 };
        assert!(weight(Stage::Build, &qemu) > weight(Stage::Build, &Runner::Native));
        assert!(weight(Stage::Test, &qemu) > weight(Stage::Test, &Runner::Wine));
        assert!(weight(Stage::Test, &Runner::Wine) > weight(Stage::Test, &Runner::Native));
        assert_eq!(weight(Stage::Test, &Runner::NotRunnable { reason: String::new() }), 0);
    }
}
