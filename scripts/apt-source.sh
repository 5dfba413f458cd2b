# Sourced by the CI mirror scripts: Debian source packages fetched the way a real package mirror
# allows. `apt-get source PKG` takes the newest version apt knows, and mirrors do not always
# serve it (the bookworm-security uploads of python3.11 and zlib answered 404 while older
# versions were there), so every version apt lists, in every suite, is tried, newest first.

# apt_source_enable: adds deb-src entries for the machine's deb entries (once) and updates.
apt_source_enable() {
    if apt-get indextargets --format '$(CREATED_BY)' 2>/dev/null | grep -q '^Sources$'; then
        return 0
    fi
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
            > /etc/apt/sources.list.d/pookie-src.sources
    elif [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/pookie-src.list
    else
        printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            > /etc/apt/sources.list.d/pookie-src.sources
    fi
    apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Check-Valid-Until=false update -q >/dev/null
}

# apt_source DIR PKG: downloads PKG's source package (.dsc, orig and debian tarballs) into DIR,
# the newest version whose files the mirror serves. Fails naming every version tried.
apt_source() {
    local dir=$1 pkg=$2 version tried=()
    local versions
    versions=$(apt-cache showsrc "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | sort -urV)
    [ -n "$versions" ] || { echo "apt knows no source package $pkg (is a deb-src entry configured?)" >&2; return 1; }
    for version in $versions; do
        local attempt
        attempt=$(mktemp -d "$dir/.apt-source.XXXXXX")
        if (cd "$attempt" && apt-get source -q --download-only "$pkg=$version" >"$attempt.log" 2>&1); then
            mv "$attempt"/* "$dir"/
            rm -rf "$attempt" "$attempt.log"
            echo "source package $pkg $version"
            return 0
        fi
        tried+=("$version ($(grep -m1 -E 'Failed to fetch|404|E:' "$attempt.log" | cut -c1-120))")
        rm -rf "$attempt" "$attempt.log"
    done
    echo "no version of the source package $pkg could be downloaded; tried:" >&2
    printf '  %s\n' "${tried[@]}" >&2
    return 1
}
