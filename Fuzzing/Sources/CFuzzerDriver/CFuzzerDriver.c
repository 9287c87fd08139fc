// Only the declaration in include/CFuzzerDriver.h: the definition is libFuzzer's.
#include "CFuzzerDriver.h"
