# Base layer: the family's base image plus what every pookie job needs (bash, CA certificates,
# archive tools) and the extra certificate authorities pookie was told to trust.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY install-packages.sh trust-ca.sh /opt/pookie/bin/
COPY ca-bundle.crt /opt/pookie/ca-bundle.crt
RUN sh /opt/pookie/bin/install-packages.sh base && sh /opt/pookie/bin/trust-ca.sh /opt/pookie/ca-bundle.crt
# Debian and Alpine keep the system bundle here; pip, requests and curl read these variables.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
LABEL org.pookie.layer=base
