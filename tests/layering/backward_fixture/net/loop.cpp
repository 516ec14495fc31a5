// Fine: net/ includes only itself.
#include "net/loop.hpp"
