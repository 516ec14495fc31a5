// A client file that reaches up into worker/: the check must report it.
#include "worker/worker.hpp"
