#!/bin/sh
# Checks that the parts under proxy/ include each other in one direction only, the order drawn
# in DESIGN.md (plus text/, the shared text helpers, at the bottom): net -> text -> resp -> commands -> cluster -> backend -> router -> client -> worker -> main
# (a part may include the parts before it). config/ is read by every part and includes only text/; metrics/ sits just above commands/ and is read by the parts above it; admin/ reads
# metrics and the cluster view and nothing on the data path reads admin/. A folder this script
# does not know fails the check, so a new part gets placed in the order deliberately.
#
# usage: part_includes.sh PROXY_DIR     (exit 1 and one line per backward include)
set -u
root=${1:?usage: part_includes.sh PROXY_DIR}
order="net text resp commands cluster backend router client worker"

# The parts `$1` may include, besides itself.
allowed() {
  case $1 in
    text) echo "" ;;
    config) echo "text" ;;
    metrics) echo "net text resp commands config" ;;
    admin) echo "net text resp commands cluster config metrics" ;;
    *)
      below=""
      for p in $order; do
        [ "$p" = "$1" ] && break
        below="$below $p"
      done
      case " $below " in
        *" commands "*) echo "$below config metrics" ;;
        *) echo "$below config" ;;
      esac
      ;;
  esac
}

known() {
  case " $order config metrics admin " in
    *" $1 "*) return 0 ;;
  esac
  return 1
}

status=0
for dir in "$root"/*/; do
  part=$(basename "$dir")
  if ! known "$part"; then
    echo "$dir: part '$part' has no place in the include order (add it to tests/layering/part_includes.sh)"
    status=1
    continue
  fi
  ok=" $part $(allowed "$part") "
  # Every include of another part: FILE:LINE:TARGET-PART.
  hits=$(grep -rnE --include='*.cpp' --include='*.hpp' --include='*.h' --include='*.inc' \
           '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<][a-z_]+/' "$dir" |
         sed -E 's|^([^:]*:[0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*["<]([a-z_]+)/.*$|\1:\2|')
  for hit in $hits; do
    target=${hit##*:}
    where=${hit%:*}
    known "$target" || continue  # not a part (a system or third-party header)
    case "$ok" in
      *" $target "*) ;;
      *)
        echo "$where: $part/ includes $target/ (backwards: $part/ may include only$(allowed "$part"))"
        status=1
        ;;
    esac
  done
done
# OpenSSL's TLS API stays inside net/ (net/tls.hpp wraps it), as libuv's does.
ssl_hits=$(grep -rnE --include='*.cpp' --include='*.hpp' '[^A-Za-z_]SSL_[A-Za-z_]+|openssl/ssl\.h' \
             "$root" | grep -v "^$root/net/" | grep -v "^$root/*net/")
if [ -n "$ssl_hits" ]; then
  echo "$ssl_hits" | sed 's/$/  (an OpenSSL TLS name outside net\/)/'
  status=1
fi
[ $status -eq 0 ] && echo "part includes point one way ($order)"
exit $status
