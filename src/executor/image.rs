//! Building the image layers of a plan: assemble each layer's build context (recipe files, CA
//! bundle, verified Python archives) and run the engine's build, unless an image with the
//! layer's content-hash tag already exists.

use super::log::{last_lines, open_log};
use crate::engine::{Engine, MANAGED_LABEL};
use crate::image::Recipe;
use crate::plan::{ContextFile, ImageNode, Layer};
use crate::process::{self, Cancel, Exit};
use crate::python::download;
use sha2::Digest;
use std::path::{Path, PathBuf};

/// Label of every layer: the ID of the image it was built from.
const FROM_ID_LABEL: &str = "org.pookie.from-id";

/// Why a layer could not be had; [`super::log::one_line`] prints it with its sources.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("its Python archive is unresolved (the index was unavailable)")]
    Unresolved,
    #[error("parent layer {0} is missing")]
    MissingParent(String),
    #[error("cannot {what}")]
    Context {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Download(#[from] download::DownloadError),
    #[error(transparent)]
    Log(#[from] super::log::LogError),
    #[error("cannot run the engine")]
    Engine(#[source] std::io::Error),
    #[error("interrupted")]
    Interrupted,
    #[error("image build failed: {0}")]
    Build(String),
    #[error(
        "base image `{reference}` is not in the engine and could not be pulled ({detail}); pull it, or build one offline with `pookie base-image --tag {reference} ...`"
    )]
    Pull { reference: String, detail: String },
    #[error("`{0}` is still missing after the pull")]
    MissingAfterPull(String),
}

fn context(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LayerError {
    let what = what.into();
    move |source| LayerError::Context { what, source }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Cached,
    /// Pulled from the cache registry instead of built.
    Pulled,
    Built,
}

pub struct Builder<'a> {
    pub engine: &'a Engine,
    pub cache_dir: PathBuf,
    pub offline: bool,
    pub cancel: &'a Cancel,
    /// The registry repository layers are shared through (`--cache-registry`).
    pub registry: Option<&'a str>,
}

impl Builder<'_> {
    /// Makes sure the layer exists. Errors are one-line reasons; details are in `log`.
    pub fn ensure(&self, node: &ImageNode, log: &Path) -> Result<Outcome, LayerError> {
        let tag = node.tag.as_deref().ok_or(LayerError::Unresolved)?;
        // A layer is current only while the image it was built FROM is the same one: a re-pulled
        // `debian:bookworm-slim` rebuilds the base layer, which in turn rebuilds its children
        // (their tags, derived from declared inputs, stay the same).
        let from = node.from.as_deref().ok_or(LayerError::Unresolved)?;
        let mut from_id = match node.layer {
            Layer::Base => self.base_image_id(from, log)?,
            _ => self.image_id(from).ok_or_else(|| LayerError::MissingParent(from.into()))?,
        };
        // Images the recipe copies from count like the parent (a rebuilt target image rebuilds
        // the cross layers that took its headers).
        for source in &node.sources {
            from_id = format!("{from_id};{}", self.base_image_id(source, log)?);
        }
        if self.engine.image_exists(tag) && self.label(tag, FROM_ID_LABEL).as_deref() == Some(from_id.as_str()) {
            self.share(tag, log)?;
            return Ok(Outcome::Cached);
        }
        if self.pull_shared(tag, &from_id, log)? {
            return Ok(Outcome::Pulled);
        }
        let recipe = node.recipe;
        let context =
            tempfile::Builder::new().prefix("pookie-context-").tempdir().map_err(context("create a build context"))?;
        self.assemble(recipe, node, context.path())?;
        let mut args: Vec<String> = vec![
            "build".into(),
            // Failed builds must not leave intermediate containers behind.
            "--force-rm".into(),
            format!("--tag={tag}"),
            format!("--label={MANAGED_LABEL}=true"),
            format!("--label=org.pookie.layer-name={}", node.name),
            format!("--label={FROM_ID_LABEL}={from_id}"),
        ];
        for (k, v) in &node.args {
            args.push(format!("--build-arg={k}={v}"));
        }
        args.extend(["--".into(), context.path().display().to_string()]);
        if !self.logged(args, log)? {
            return Err(LayerError::Build(last_lines(log, 3)));
        }
        self.share(tag, log)?;
        Ok(Outcome::Built)
    }

    /// The layer `tag` (`pookie/NAME:HASH`) in the cache registry (`REGISTRY/NAME:HASH`), and
    /// the file that says this machine knows it is there. None without a registry, or offline.
    fn remote(&self, tag: &str) -> Option<(String, PathBuf)> {
        let registry = self.registry.filter(|_| !self.offline)?;
        let name = tag.strip_prefix("pookie/").unwrap_or(tag);
        let marker = crate::cache::Bucket::Registry
            .in_dir(&self.cache_dir)
            .join(hex::encode(sha2::Sha256::digest(registry.as_bytes())))
            .join(name.replace([':', '/'], "@"));
        Some((format!("{registry}/{name}"), marker))
    }

    /// `pull` or `push` of `remote`, with the engine's flags for its registry.
    fn registry_command(&self, verb: &str, remote: &str) -> Vec<String> {
        registry_command(self.engine, verb, remote)
    }

    /// Pulls the layer `tag` from the cache registry into `engine` (another engine of the pool),
    /// when the registry has it as image `id`: whether `engine` now holds it under `tag`.
    pub fn pull_into(&self, engine: &Engine, tag: &str, id: &str, log: &Path) -> bool {
        let Some((remote, _)) = self.remote(tag) else { return false };
        let Ok(log_file) = open_log(log) else { return false };
        let pull = engine.cmd_logged(registry_command(engine, "pull", &remote), &log_file);
        let pulled = process::run_logged(pull, &log_file, None, self.cancel, || {}).is_ok_and(|e| e == Exit::Code(0));
        let same = pulled
            && engine
                .output(["image", "inspect", "--format={{.Id}}", "--", &remote])
                .is_ok_and(|theirs| theirs.trim().trim_start_matches("sha256:") == id);
        let tagged = same && engine.output(["tag", "--", &remote, tag]).is_ok();
        if pulled {
            let _ = engine.output(["rmi", "--", &remote]);
        }
        tagged
    }

    /// Runs `engine ARGS`, its output in the layer's log; whether it succeeded (an interrupted
    /// run is an error).
    fn logged(&self, args: Vec<String>, log: &Path) -> Result<bool, LayerError> {
        let log_file = open_log(log)?;
        match process::run_logged(self.engine.cmd_logged(args, &log_file), &log_file, None, self.cancel, || {})
            .map_err(LayerError::Engine)?
        {
            Exit::Code(0) => Ok(true),
            Exit::Cancelled => Err(LayerError::Interrupted),
            _ => Ok(false),
        }
    }

    /// Pulls the layer from the cache registry, if it is there and was built on the same parent
    /// (the label every layer carries: the ID of the image it was built from, the same wherever
    /// that image came from). Whether the layer is now here; a layer the registry lacks, or
    /// one of another parent, is built instead, as without a registry. The engine verifies
    /// what it pulls against the manifest's digests.
    fn pull_shared(&self, tag: &str, from_id: &str, log: &Path) -> Result<bool, LayerError> {
        let Some((remote, marker)) = self.remote(tag) else { return Ok(false) };
        if !self.logged(self.registry_command("pull", &remote), log)? {
            append(log, &format!("pookie: {remote} could not be pulled from the cache registry; building it"))?;
            return Ok(false);
        }
        let same_parent = self.label(&remote, FROM_ID_LABEL).as_deref() == Some(from_id);
        let tagged = same_parent && self.logged(vec!["tag".into(), "--".into(), remote.clone(), tag.into()], log)?;
        // The registry's name of the layer is not kept: the layer is known by its own.
        let _ = self.engine.output(["rmi", "--", &remote]);
        if !same_parent {
            append(log, &format!("pookie: {remote} was built on another parent image; building it"))?;
            return Ok(false);
        }
        if tagged {
            mark(&marker);
        }
        Ok(tagged)
    }

    /// Pushes the layer to the cache registry, once per machine. A push that fails is said in
    /// the layer's log and does not fail the layer: the registry only saves other machines work.
    fn share(&self, tag: &str, log: &Path) -> Result<(), LayerError> {
        let Some((remote, marker)) = self.remote(tag) else { return Ok(()) };
        if marker.is_file() {
            return Ok(());
        }
        let mut push = vec!["push".to_string()];
        push.extend(self.engine.registry_flags(&remote));
        push.extend(["--".into(), remote.clone()]);
        let pushed =
            self.logged(vec!["tag".into(), "--".into(), tag.into(), remote.clone()], log)? && self.logged(push, log)?;
        let _ = self.engine.output(["rmi", "--", &remote]);
        if pushed {
            mark(&marker);
        } else {
            append(log, &format!("pookie: could not push {remote} to the cache registry (see above)"))?;
        }
        Ok(())
    }

    fn assemble(&self, recipe: &Recipe, node: &ImageNode, dir: &Path) -> Result<(), LayerError> {
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.join(name);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(context(format!("create {}", parent.display())))?;
            }
            std::fs::write(&p, bytes).map_err(context(format!("write {}", p.display())))
        };
        write("Dockerfile", recipe.dockerfile.as_bytes())?;
        for (name, text) in recipe.files {
            write(name, text.as_bytes())?;
        }
        // COPY of a directory needs the directory even when it holds nothing.
        std::fs::create_dir_all(dir.join("python")).map_err(context("create the context's python/"))?;
        write("python/.keep", b"")?;
        std::fs::create_dir_all(dir.join("project")).map_err(context("create the context's project/"))?;
        for c in &node.context {
            match c {
                ContextFile::CaBundle { path, source, .. } => {
                    let bytes = match source {
                        Some(s) => std::fs::read(s).map_err(context(format!("read CA bundle {}", s.display())))?,
                        None => Vec::new(),
                    };
                    write(path, &bytes)?;
                }
                ContextFile::Project { path, root, files, .. } => {
                    crate::workspace::copy_files(root, files, &dir.join(path))
                        .map_err(context("copy the project's files for before-all"))?;
                }
                ContextFile::Archive { path, archive } => {
                    let cached = download::fetch_archive(archive, &self.cache_dir, self.offline)?;
                    let dest = dir.join(path);
                    // Hard links keep large archives from being copied; fall back across filesystems.
                    if std::fs::hard_link(&cached, &dest).is_err() {
                        std::fs::copy(&cached, &dest).map_err(context(format!("copy {}", cached.display())))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The engine's ID of the image `reference` (the digest of its configuration).
    pub fn image_id(&self, reference: &str) -> Option<String> {
        self.engine.output(["image", "inspect", "--format={{.Id}}", "--", reference]).ok().map(|s| s.trim().to_string())
    }

    /// The ID of the base image, pulling it when the engine does not have it.
    fn base_image_id(&self, reference: &str, log: &Path) -> Result<String, LayerError> {
        if let Some(id) = self.image_id(reference) {
            return Ok(id);
        }
        if !self.logged(vec!["pull".into(), "--".into(), reference.into()], log)? {
            return Err(LayerError::Pull { reference: reference.into(), detail: last_lines(log, 1) });
        }
        self.image_id(reference).ok_or_else(|| LayerError::MissingAfterPull(reference.into()))
    }

    fn label(&self, image: &str, label: &str) -> Option<String> {
        let format = format!("{{{{index .Config.Labels \"{label}\"}}}}");
        self.engine
            .output(["image", "inspect", &format!("--format={format}"), "--", image])
            .ok()
            .map(|s| s.trim().to_string())
    }
}

/// `pull` or `push` of `remote` by `engine`, with its flags for the registry.
fn registry_command(engine: &Engine, verb: &str, remote: &str) -> Vec<String> {
    let mut args = vec![verb.to_string()];
    args.extend(engine.registry_flags(remote));
    args.extend(["--".into(), remote.into()]);
    args
}

/// Appends a line of pookie's own to a layer's log.
fn append(log: &Path, line: &str) -> Result<(), LayerError> {
    Ok(super::log::append(log, line)?)
}

/// Records that a layer is in the cache registry (best effort: without it, it is pushed again).
fn mark(marker: &Path) {
    if let Some(dir) = marker.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(marker, b"");
}
