/* Read before every C file of the guests: see quickjs-cc. */
#include <wasi/api.h>
#undef __wasi__
