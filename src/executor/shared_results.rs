//! Job results shared through the cache registry (`[caches] registry`): a passed job's result —
//! its wheels (builds), its log, and what it was — is pushed as an OCI artifact tagged with the
//! job's cache key (`REGISTRY/jobs:<key>`), so that another machine whose job has the same key
//! (the same image layers, project content, command and environment) takes the result instead of
//! running the job. A layer of the artifact records the key, the stage and each wheel's
//! sha256; a result is used only when every blob matches the manifest's digest (oci-client
//! checks while pulling) and every wheel the sha256 recorded for it: a damaged or replaced entry
//! makes the job run, as without a registry. The registry protocol is oci-client's.

use super::cache::JobCache;
use crate::plan::Stage;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const RESULT_TYPE: &str = "application/vnd.pookie.job-result.v1+json";
const WHEEL_TYPE: &str = "application/vnd.pookie.wheel";
const LOG_TYPE: &str = "text/plain";
/// The OCI empty descriptor: these artifacts have no image configuration.
const EMPTY_TYPE: &str = "application/vnd.oci.empty.v1+json";
const TITLE: &str = "org.opencontainers.image.title";
const FORMAT: &str = "pookie-job-result-v1";

/// What an artifact says it holds.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    format: String,
    key: String,
    stage: Stage,
    wheels: Vec<WheelRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WheelRecord {
    name: String,
    sha256: String,
}

/// The job results of one registry repository (`host[:port]/path`), for one run: one client
/// (its connections kept) on one runtime, the credentials read once.
pub struct SharedResults {
    repository: String,
    runtime: tokio::runtime::Runtime,
    client: Client,
    auth: RegistryAuth,
    /// Set when the registry could not be reached: the rest of the run does not ask it again
    /// (a host that drops packets would cost every job a connect timeout).
    unreachable: std::sync::atomic::AtomicBool,
}

impl SharedResults {
    pub fn new(repository: &str) -> Result<Self, String> {
        let reference: Reference = format!("{repository}/jobs:x")
            .parse()
            .map_err(|e| format!("`{repository}` is not an OCI repository: {e}"))?;
        // pookie's executor is threads, oci-client is async: its exchanges run here, one worker.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the registry client: {e}"))?;
        Ok(SharedResults {
            repository: repository.to_string(),
            runtime,
            client: client(&reference),
            auth: auth(&reference),
            unreachable: Default::default(),
        })
    }

    /// Runs one registry exchange, unless the registry was unreachable earlier in the run;
    /// notes when this one finds it so.
    fn exchange<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, OciDistributionError>>,
    ) -> Result<Result<T, OciDistributionError>, String> {
        use std::sync::atomic::Ordering;
        if self.unreachable.load(Ordering::Relaxed) {
            return Err(format!("{} was unreachable earlier in this run", self.repository));
        }
        let out = self.runtime.block_on(f);
        if let Err(OciDistributionError::RequestError(e)) = &out
            && (e.is_connect() || e.is_timeout())
        {
            self.unreachable.store(true, Ordering::Relaxed);
        }
        Ok(out)
    }

    /// The artifact of the job with `key`.
    pub fn reference(&self, key: &str) -> String {
        format!("{}/jobs:{key}", self.repository)
    }

    /// Takes the result of the job with `key` from the registry into the job cache. Ok(None):
    /// the registry has none; Err: it has one that cannot be used (said why), or cannot be asked.
    /// A build's wheels are returned from the job cache; the artifact's log replaces `log`.
    pub fn fetch(&self, key: &str, stage: Stage, cache: &JobCache, log: &Path) -> Result<Option<Vec<PathBuf>>, String> {
        let reference = self.parse(key)?;
        let image =
            match self.exchange(self.client.pull(&reference, &self.auth, vec![RESULT_TYPE, WHEEL_TYPE, LOG_TYPE]))? {
                Ok(image) => image,
                Err(e) if absent(&e) => return Ok(None),
                Err(e) => return Err(format!("{}: {e}", self.reference(key))),
            };
        let bad = |why: &str| Err(format!("{} is not used: {why}", self.reference(key)));
        // (oci-client pulls layers concurrently: they come in any order.)
        let records: Vec<_> = image.layers.iter().filter(|l| l.media_type == RESULT_TYPE).collect();
        let [result] = records[..] else {
            return bad("it holds no pookie job result, or more than one");
        };
        let record: Record = match serde_json::from_slice(&result.data) {
            Ok(r) => r,
            Err(e) => return bad(&format!("its job result does not parse: {e}")),
        };
        if record.format != FORMAT || record.key != key || record.stage != stage {
            return bad("it records another job");
        }
        let titled = |kind: &str, name: &str| {
            image.layers.iter().find(|l| {
                l.media_type == kind && l.annotations.as_ref().and_then(|a| a.get(TITLE)).is_some_and(|t| t == name)
            })
        };
        std::fs::create_dir_all(cache.dir()).map_err(|e| format!("cannot write to the job cache: {e}"))?;
        let dir = tempfile::Builder::new()
            .prefix(".pulled-")
            .tempdir_in(cache.dir())
            .map_err(|e| format!("cannot write to the job cache: {e}"))?;
        let mut wheels = Vec::new();
        for w in &record.wheels {
            let plain =
                Path::new(&w.name).file_name().is_some_and(|n| n == w.name.as_str()) && w.name.ends_with(".whl");
            let Some(layer) = titled(WHEEL_TYPE, &w.name).filter(|_| plain) else {
                return bad(&format!("it has no wheel `{}`", w.name));
            };
            if crate::digest::sha256_hex(&layer.data) != w.sha256 {
                return bad(&format!("{} does not have the sha256 recorded for it", w.name));
            }
            let path = dir.path().join(&w.name);
            std::fs::write(&path, &layer.data).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            wheels.push(path);
        }
        if stage == Stage::Build && wheels.is_empty() {
            return bad("a build's result without wheels");
        }
        if let Some(l) = titled(LOG_TYPE, "log") {
            let mut text = format!("::pookie:: this job's result was pulled from {}; its log:\n", self.reference(key));
            text.push_str(&String::from_utf8_lossy(&l.data));
            let _ = std::fs::write(log, text);
        }
        cache.store(key, &wheels).map_err(|e| format!("cannot write to the job cache: {e}"))?;
        Ok(Some(cache.wheels(key).unwrap_or_default()))
    }

    /// Pushes the result of the passed job with `key`: its `wheels` and its log.
    pub fn publish(&self, key: &str, stage: Stage, wheels: &[PathBuf], log: &Path) -> Result<(), String> {
        let reference = self.parse(key)?;
        let mut record = Record { format: FORMAT.into(), key: key.into(), stage, wheels: Vec::new() };
        let mut layers = Vec::new();
        for w in wheels {
            let data = std::fs::read(w).map_err(|e| format!("cannot read {}: {e}", w.display()))?;
            let name = w.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            record.wheels.push(WheelRecord { name: name.clone(), sha256: crate::digest::sha256_hex(&data) });
            layers.push(ImageLayer::new(data, WHEEL_TYPE.into(), Some(BTreeMap::from([(TITLE.into(), name)]))));
        }
        // A registry takes no empty blob: a job that logged nothing has no log layer.
        let log = std::fs::read(log).unwrap_or_default();
        if !log.is_empty() {
            layers.push(ImageLayer::new(log, LOG_TYPE.into(), Some(BTreeMap::from([(TITLE.into(), "log".into())]))));
        }
        let json = serde_json::to_vec(&record).expect("a record serializes");
        layers.insert(0, ImageLayer::new(json, RESULT_TYPE.into(), None));
        let config = Config::new(b"{}".to_vec(), EMPTY_TYPE.into(), None);
        self.exchange(self.client.push(&reference, &layers, config, &self.auth, None))?
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", self.reference(key)))
    }

    fn parse(&self, key: &str) -> Result<Reference, String> {
        self.reference(key).parse().map_err(|e| format!("`{}` is not an OCI reference: {e}", self.reference(key)))
    }
}

/// Plain HTTP for a registry on this machine (as the engines treat loopback registries), HTTPS
/// for any other.
fn client(reference: &Reference) -> Client {
    let host = reference.resolve_registry().to_string();
    let protocol = if loopback(&host) { ClientProtocol::HttpsExcept(vec![host]) } else { ClientProtocol::Https };
    Client::new(ClientConfig { protocol, ..Default::default() })
}

/// Whether the registry `host[:port]` is this machine.
fn loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    name == "localhost"
        || name.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback())
}

/// The credentials `docker login` or `podman login` stored for the registry (the `auth` of
/// `auths`, base64 of `user:password`), else none. Credential helpers are not asked.
fn auth(reference: &Reference) -> RegistryAuth {
    let host = reference.resolve_registry();
    let files = [
        std::env::var_os("REGISTRY_AUTH_FILE").map(PathBuf::from),
        std::env::var_os("XDG_RUNTIME_DIR").map(|d| PathBuf::from(d).join("containers/auth.json")),
        std::env::var_os("DOCKER_CONFIG").map(|d| PathBuf::from(d).join("config.json")),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json")),
    ];
    for file in files.into_iter().flatten() {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let Some(encoded) = json["auths"][host]["auth"].as_str() else { continue };
        let Ok(pair) = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded) else { continue };
        if let Some((user, password)) = String::from_utf8_lossy(&pair).split_once(':') {
            return RegistryAuth::Basic(user.to_string(), password.to_string());
        }
    }
    RegistryAuth::Anonymous
}

/// The registry has no such artifact (as opposed to one it cannot serve).
fn absent(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::RegistryError { envelope, .. } => {
            envelope.errors.iter().any(|e| matches!(e.code, OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_registries_on_this_machine_are_spoken_to_without_tls() {
        for host in ["127.0.0.1:5000", "localhost:5000", "localhost", "[::1]:5000", "127.0.0.2"] {
            assert!(loopback(host), "{host}");
        }
        for host in ["ghcr.io", "registry.internal:5000", "10.0.0.1:5000", "localhost.example.com", "[2001:db8::1]:443"]
        {
            assert!(!loopback(host), "{host}");
        }
    }

    #[test]
    fn artifacts_are_tagged_with_the_jobs_key() {
        let shared = SharedResults::new("ghcr.io/owner/pookie-cache").unwrap();
        let key = "ab".repeat(32);
        let reference: Reference = shared.reference(&key).parse().unwrap();
        assert_eq!(reference.registry(), "ghcr.io");
        assert_eq!(reference.repository(), "owner/pookie-cache/jobs");
        assert_eq!(reference.tag(), Some(key.as_str()));
    }
}
