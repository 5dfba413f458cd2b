# zig target layer: zig's libc stubs, CRT files and libc++ for one zig target, built once into
# the image's zig cache (a minute or more per target) instead of in every job.
ARG PARENT
FROM ${PARENT}
ARG ZIG_TARGET
COPY zig-target.sh /opt/pookie/bin/
RUN sh /opt/pookie/bin/zig-target.sh "$ZIG_TARGET"
LABEL org.pookie.layer=toolchain
