//! Base images from distribution packages (debootstrap), for build farms without a registry.
