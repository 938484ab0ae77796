#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host test: lib/hrservo.h is plain C declarations once HRSERVO_API is
# predefined empty, so that Python's cffi (Debian's python3-cffi) takes it
# as its cdef, and calls through it reach the built library. TAP.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..2"
# The system headers it includes are types cffi knows by themselves.
mkdir "$tmp/inc"
for h in stdint.h stdbool.h stddef.h; do : > "$tmp/inc/$h"; done
if gcc -E -P -nostdinc -I"$tmp/inc" -DHRSERVO_API= "$top/lib/hrservo.h" \
	> "$tmp/decl.h" 2> "$tmp/cpp.err" && [ ! -s "$tmp/cpp.err" ]; then
	echo "ok 1 the header preprocesses alone, HRSERVO_API empty"
else
	echo "not ok 1 the header preprocesses alone, HRSERVO_API empty"
	sed 's/^/# /' "$tmp/cpp.err"
fi
want=$(sed -n 's/^#define HRSERVO_API_VERSION[[:space:]]*\([0-9]*\).*/\1/p' \
	"$top/lib/hrservo.h")
/usr/bin/python3 - "$tmp/decl.h" "$top/build/lib/libhrservo.so.0" "$want" \
	> "$tmp/py.out" 2>&1 <<'PY'
import sys, cffi
ffi = cffi.FFI()
ffi.cdef(open(sys.argv[1]).read())
lib = ffi.dlopen(sys.argv[2])
assert lib.hrservo_api_version() == int(sys.argv[3]), lib.hrservo_api_version()
cfg = lib.hrservo_open_config_new()
assert lib.hrservo_open_config_get_rt_priority(cfg) == -1
assert lib.hrservo_open_config_set_rt_priority(cfg, 100) == -1
lib.hrservo_open_config_free(cfg)
assert lib.hrservo_open(b"/dev/ttyACM0") == ffi.NULL
v = ffi.new("struct hrservo_value *")
assert lib.hrservo_value_parse(b"1500us", v) == 0, "parse"
print("ok")
PY
if [ "$(cat "$tmp/py.out")" = ok ]; then
	echo "ok 2 cffi reads it as its cdef and calls the library through it"
else
	echo "not ok 2 cffi reads it as its cdef and calls the library through it"
	sed 's/^/# /' "$tmp/py.out"
fi
