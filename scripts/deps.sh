# Sourced by the scripts: installs the Debian packages the build, the
# demo and the tests need, only those missing.  Why each is there: README.
ORB_DEBS=(cmake make gcc pkg-config libyaml-dev libjansson-dev libsodium-dev libseccomp-dev libsqlite3-dev libedit-dev jq procps util-linux)

orb_install_deps() {
        local missing=() p
        for p in "${ORB_DEBS[@]}" "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        echo ">> installing Debian packages: ${missing[*]}"
        local sudo=
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
