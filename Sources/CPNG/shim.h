// libpng's simplified API (png_image): no setjmp/longjmp crosses into Swift. Debian: libpng-dev.
#include <png.h>
