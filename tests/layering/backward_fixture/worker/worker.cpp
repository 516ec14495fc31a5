// Fine: worker/ may include client/.
#include "client/session_host.hpp"
