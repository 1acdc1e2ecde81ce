// The same consumer compiled as C++: the public headers are C with C++ guards.
#include "modern.c"
