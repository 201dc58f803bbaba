// libjpeg-turbo's TurboJPEG API (tjDecompress2): errors are return codes and messages, no
// setjmp/longjmp crosses into Swift. Debian: libturbojpeg0-dev.
#include <stddef.h>
#include <turbojpeg.h>
