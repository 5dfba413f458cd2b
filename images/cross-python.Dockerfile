# Cross Python layer from python-build-standalone archives: the x86_64 CPython (host.tar.gz) as
# a virtual environment first on PATH, with the target CPython's headers and sysconfig data (or,
# for Windows, its import library) from target.tar.gz beside it. See cross-python.sh for how
# wheels get the target's tag.
ARG PARENT
FROM ${PARENT}
ARG PYTHON_VERSION
ARG TARGET_OS
ARG TARGET_GNU_TYPE
# Windows: its sysconfig platform (win-amd64, win-arm64), which target-sysconfig.py reads.
ARG TARGET_PLATFORM=
COPY python/ /opt/pookie/archives/
COPY cross-python.sh target-sysconfig.py /opt/pookie/bin/
RUN sh /opt/pookie/bin/cross-python.sh pbs "$TARGET_OS" "$PYTHON_VERSION" "$TARGET_GNU_TYPE"
# uv, for build-frontend = "uv" or "build[uv]" (pookie passes UV_VERSION only then).
ARG UV_VERSION=
RUN if [ -n "$UV_VERSION" ]; then /opt/pookie/venv/bin/python -m pip install --no-cache-dir \
        --disable-pip-version-check -q "uv==$UV_VERSION" && /opt/pookie/venv/bin/uv --version; fi
ENV VIRTUAL_ENV=/opt/pookie/venv \
    POOKIE_TARGET_INCLUDE=/opt/pookie/target/include \
    PATH=/opt/pookie/venv/bin:/opt/pookie/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.pookie.layer=python
