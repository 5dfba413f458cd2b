# Python layer: one CPython (from a python-build-standalone archive in the build context, or
# already in the image) as a virtual environment that is first on PATH, so `python` and `pip`
# are the target's.
ARG PARENT
FROM ${PARENT}
ARG PYTHON_SOURCE
ARG PYTHON_PATH
ARG PYTHON_VERSION
COPY python/ /opt/pookie/archives/
COPY python.sh /opt/pookie/bin/
RUN sh /opt/pookie/bin/python.sh "$PYTHON_SOURCE" "$PYTHON_VERSION" "$PYTHON_PATH"
# uv, for build-frontend = "uv" or "build[uv]" (pookie passes UV_VERSION only then).
ARG UV_VERSION=
RUN if [ -n "$UV_VERSION" ]; then /opt/pookie/venv/bin/python -m pip install --no-cache-dir \
        --disable-pip-version-check -q "uv==$UV_VERSION" && /opt/pookie/venv/bin/uv --version; fi
ENV VIRTUAL_ENV=/opt/pookie/venv \
    POOKIE_TARGET_INCLUDE=/opt/pookie/python-include \
    PATH=/opt/pookie/venv/bin:/opt/pookie/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.pookie.layer=python
