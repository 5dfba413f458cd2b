# Wine Python layer: the Windows CPython of a python-build-standalone archive, run by Wine as
# `python` (first on PATH). Tests pip-install the wheel into it and run the test command.
ARG PARENT
FROM ${PARENT}
ARG PYTHON_SOURCE
ARG PYTHON_PATH
ARG PYTHON_VERSION
COPY python/ /opt/pookie/archives/
COPY wine-python.sh /opt/pookie/bin/
RUN sh /opt/pookie/bin/wine-python.sh "$PYTHON_VERSION"
# Quiet Wine, 64-bit only, and no prompts to install Mono or Gecko (nothing here needs them).
ENV WINEDEBUG=-all \
    WINEARCH=win64 \
    WINEDLLOVERRIDES="mscoree,mshtml=" \
    PATH=/opt/pookie/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.pookie.layer=python
