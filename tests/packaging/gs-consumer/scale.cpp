// The same consumer compiled as C++: the public header is C with C++ guards.
#include "scale.c"
