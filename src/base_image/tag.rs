//! The tag the user asked for, in the engine: which image it names now, and pointing it at the
//! image of an archive (loaded unless the engine holds that image already).

use super::{BaseImageError, KEY_LABEL, secs, short_id};
use crate::engine::Engine;
use std::io;
use std::path::Path;
use std::time::Instant;

/// The image a tag names.
pub(super) struct Tagged {
    pub(super) id: String,
    /// The cache key, when pookie base-image made the image.
    pub(super) key: Option<String>,
}

pub(super) fn inspect(engine: &Engine, reference: &str) -> Result<Option<Tagged>, BaseImageError> {
    if !engine.image_exists(reference) {
        return Ok(None);
    }
    let out = engine.output(["image", "inspect", "--", reference])?;
    let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| BaseImageError::Io {
        what: format!("cannot read `image inspect {reference}`"),
        source: io::Error::other(e),
    })?;
    let img = &v[0];
    Ok(Some(Tagged {
        id: img["Id"].as_str().unwrap_or_default().to_string(),
        key: img["Config"]["Labels"][KEY_LABEL].as_str().map(str::to_string),
    }))
}

/// Makes `tag` name `image_id`, loading `archive` first unless the engine has the image.
/// `previous` is what the tag named before.
pub(super) fn load_and_tag(
    engine: &Engine,
    archive: &Path,
    image_id: &str,
    tag: &str,
    previous: Option<&Tagged>,
    progress: &mut dyn FnMut(&str),
) -> Result<(), BaseImageError> {
    if engine.image_exists(image_id) {
        progress(&format!("{} already holds image {}", engine.kind.program(), short_id(image_id)));
    } else {
        let started = Instant::now();
        progress(&format!("loading {} into {}", archive.display(), engine.kind.program()));
        engine.load(archive)?;
        if !engine.image_exists(image_id) {
            return Err(BaseImageError::Io {
                what: format!("{} loaded {} but has no image {image_id}", engine.kind.program(), archive.display()),
                source: io::Error::other("unexpected image id"),
            });
        }
        progress(&format!("loaded in {}", secs(started.elapsed())));
    }
    engine.output(["tag", "--", image_id, tag])?;
    // The image the tag named before, if pookie made it and nothing else names it, is garbage now.
    if let Some(prev) = previous
        && prev.id != image_id
        && prev.key.is_some()
    {
        let _ = engine.output(["image", "rm", "--", prev.id.as_str()]);
    }
    Ok(())
}
