// A router header that reaches up into client/: the check must report it.
#include <string>

#include "client/client_session.hpp"
#include "net/loop.hpp"
