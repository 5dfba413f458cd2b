//! End to end, reproducible wheels: with `SOURCE_DATE_EPOCH` (here `source-date-epoch`; by
//! default the project's last commit), building again from the same inputs gives byte-identical
//! wheels, for Linux (zig, auditwheel) and Windows (zig, delvewheel); their zip entries carry
//! that time.

mod support;

use std::collections::BTreeMap;
use support::e2e::*;

const EPOCH: &str = "source-date-epoch = 1700000000";

/// sha256 of each wheel in dist/.
fn digests(p: &Project) -> BTreeMap<String, String> {
    use sha2::Digest;
    p.wheels()
        .into_iter()
        .map(|w| {
            let bytes = std::fs::read(p.dir().join("dist").join(&w)).unwrap();
            (w, hex::encode(sha2::Sha256::digest(&bytes)))
        })
        .collect()
}

/// Every zip entry of every wheel is dated 2023-11-14 22:13:20 (1700000000), to zip's 2 s.
fn dated_from_the_epoch(p: &Project) {
    for w in p.wheels() {
        let mut z = zip::ZipArchive::new(std::fs::File::open(p.dir().join("dist").join(&w)).unwrap()).unwrap();
        for i in 0..z.len() {
            let f = z.by_index(i).unwrap();
            let t = f.last_modified().expect("a time");
            assert_eq!(
                (t.year(), t.month(), t.day(), t.hour(), t.minute()),
                (2023, 11, 14, 22, 13),
                "{w}: {:?} is dated {t:?}",
                f.name()
            );
        }
    }
}

fn built_twice_alike(p: &Project) {
    let out = p.pookie(&["run"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let first = digests(p);
    assert!(!first.is_empty());
    dated_from_the_epoch(p);
    // A little later, every job run again.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let out = p.pookie(&["run", "--force"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("passed"), "{}", stdout(&out));
    assert_eq!(digests(p), first, "the second build's wheels differ from the first's");
}

#[test]
fn linux_wheels_are_reproducible() {
    require(&[&sid_image()]);
    let _serial = serial();
    built_twice_alike(&Project::new(&sid_config(EPOCH)));
}

#[test]
fn windows_wheels_are_reproducible() {
    let mirror = win_mac_mirror();
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(&format!(
        "targets = [\"win_amd64\"]\n{EPOCH}\n[python]\nversions = [\"3.13\"]\n[images]\nlinux-x86_64 = \"{}\"\n",
        sid_image()
    ))
    .with_mirror(&mirror);
    built_twice_alike(&p);
}
