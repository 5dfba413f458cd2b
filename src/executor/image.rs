//! Building the image layers of a plan: assemble each layer's build context (recipe files, CA
//! bundle, verified Python archives) and run the engine's build, unless an image with the
//! layer's content-hash tag already exists.

use super::log::{last_lines, open_log};
use crate::engine::{Engine, MANAGED_LABEL};
use crate::image::Recipe;
use crate::plan::{ContextFile, ImageNode, Layer};
use crate::process::{self, Cancel, Exit};
use crate::python::download;
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
    Built,
}

pub struct Builder<'a> {
    pub engine: &'a Engine,
    pub cache_dir: PathBuf,
    pub offline: bool,
    pub cancel: &'a Cancel,
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
            return Ok(Outcome::Cached);
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
        let log_file = open_log(log)?;
        let exit = process::run_logged(self.engine.cmd_logged(args, &log_file), &log_file, None, self.cancel, || {})
            .map_err(LayerError::Engine)?;
        match exit {
            Exit::Code(0) => Ok(Outcome::Built),
            Exit::Cancelled => Err(LayerError::Interrupted),
            _ => Err(LayerError::Build(last_lines(log, 3))),
        }
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

    fn image_id(&self, reference: &str) -> Option<String> {
        self.engine.output(["image", "inspect", "--format={{.Id}}", "--", reference]).ok().map(|s| s.trim().to_string())
    }

    /// The ID of the base image, pulling it when the engine does not have it.
    fn base_image_id(&self, reference: &str, log: &Path) -> Result<String, LayerError> {
        if let Some(id) = self.image_id(reference) {
            return Ok(id);
        }
        let log_file = open_log(log)?;
        let exit = process::run_logged(
            self.engine.cmd_logged(["pull", "--", reference], &log_file),
            &log_file,
            None,
            self.cancel,
            || {},
        )
        .map_err(LayerError::Engine)?;
        if exit != Exit::Code(0) {
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
