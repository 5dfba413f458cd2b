#!/bin/sh
# Fills the zig cache for one target by building a C and a C++ shared library the way jobs do
# (through zig-cc and zig-c++, position-independent, linked as extension modules are), and a C
# and a C++ executable, as CMake's and meson's compiler checks link (zig builds the start files
# and libc++ variants executables need once, here, instead of in every job).
# Windows modules link with -s (images/target-sysconfig.py), which is part of the key of zig's
# cached libc++: warmed without it, every Windows C++ build spent minutes rebuilding libc++.
# usage: zig-target.sh ZIG_TARGET
set -eu
export POOKIE_ZIG_TARGET=$1
case $1 in
    *-windows-*) link=-s ;;
    *) link= ;;
esac
dir=$(mktemp -d)
printf 'int pookie_warm(int x) { return x + 1; }\n' > "$dir/warm.c"
printf '#include <string>\n#include <vector>\nint pookie_warm_cxx(const char *s) { std::vector<std::string> v{s}; return (int)v[0].size(); }\n' > "$dir/warm.cpp"
/opt/pookie/bin/zig-cc -fPIC -c "$dir/warm.c" -o "$dir/warm.o"
/opt/pookie/bin/zig-cc -shared $link "$dir/warm.o" -o "$dir/warm.so"
/opt/pookie/bin/zig-c++ -fPIC -c "$dir/warm.cpp" -o "$dir/warm-cxx.o"
/opt/pookie/bin/zig-c++ -shared $link "$dir/warm-cxx.o" -o "$dir/warm-cxx.so"
printf 'int main(void) { return 0; }\n' > "$dir/main.c"
printf '#include <string>\nint main() { std::string s("x"); return (int)s.size() - 1; }\n' > "$dir/main.cpp"
/opt/pookie/bin/zig-cc $link "$dir/main.c" -o "$dir/main-c"
/opt/pookie/bin/zig-c++ $link "$dir/main.cpp" -o "$dir/main-cxx"
rm -rf "$dir"
chmod -R a+rwX "$ZIG_GLOBAL_CACHE_DIR"
echo "zig cache for $1: $(du -sh "$ZIG_GLOBAL_CACHE_DIR" | cut -f1)"
