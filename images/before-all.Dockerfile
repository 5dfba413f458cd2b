# before-all layer: the project's before-all hook, run once for every build on the image below
# and kept, keyed by its command, its environment and the project files it reads. What it
# installs into $POOKIE_TARGET_PREFIX later builds find (compilers through CPATH/LIBRARY_PATH or
# zig-cc, pkg-config, CMake) and the repair step vendors into the wheels.
ARG PARENT
FROM ${PARENT}
ENV POOKIE_TARGET_PREFIX=/opt/pookie/prefix \
    CPATH=/opt/pookie/prefix/include \
    LIBRARY_PATH=/opt/pookie/prefix/lib \
    PKG_CONFIG_PATH=/opt/pookie/prefix/lib/pkgconfig \
    CMAKE_PREFIX_PATH=/opt/pookie/prefix
ARG BEFORE_ALL
ARG BEFORE_ALL_ENV
COPY before-all.sh /opt/pookie/bin/
COPY project/ /pookie/before-all/src/
RUN bash /opt/pookie/bin/before-all.sh
LABEL org.pookie.layer=before-all
