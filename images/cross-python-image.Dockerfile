# Cross Python layer from images: the x86_64 CPython of this (x86_64) image as a virtual
# environment first on PATH, with the target CPython's headers and sysconfig data copied out of
# the target's base image (TARGET_IMAGE, an image of another architecture: nothing in it runs,
# so no emulation is needed). Only the Python folders are kept: the first stage copies the
# target's include/ and lib/pythonX.Y/ and picks them out. See cross-python.sh.
ARG TARGET_IMAGE
ARG PARENT
FROM ${TARGET_IMAGE} AS target
FROM ${PARENT} AS pick
ARG TARGET_PREFIX
ARG PYTHON_VERSION
ARG TARGET_GNU_TYPE
COPY --from=target ${TARGET_PREFIX}/include /tmp/target/include
COPY --from=target ${TARGET_PREFIX}/lib/python${PYTHON_VERSION} /tmp/target/lib/python${PYTHON_VERSION}
COPY cross-python.sh /opt/pookie/bin/
RUN sh /opt/pookie/bin/cross-python.sh pick /tmp/target "$PYTHON_VERSION" "$TARGET_GNU_TYPE"

FROM ${PARENT}
ARG PYTHON_VERSION
ARG PYTHON_PATH
ARG TARGET_GNU_TYPE
COPY --from=pick /opt/pookie/target /opt/pookie/target
COPY cross-python.sh target-sysconfig.py /opt/pookie/bin/
RUN sh /opt/pookie/bin/cross-python.sh image "$PYTHON_VERSION" "$TARGET_GNU_TYPE" "$PYTHON_PATH"
# uv, for build-frontend = "uv" or "build[uv]" (pookie passes UV_VERSION only then).
ARG UV_VERSION=
RUN if [ -n "$UV_VERSION" ]; then /opt/pookie/venv/bin/python -m pip install --no-cache-dir \
        --disable-pip-version-check -q "uv==$UV_VERSION" && /opt/pookie/venv/bin/uv --version; fi
ENV VIRTUAL_ENV=/opt/pookie/venv \
    POOKIE_TARGET_INCLUDE=/opt/pookie/target/include \
    PATH=/opt/pookie/venv/bin:/opt/pookie/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.pookie.layer=python
