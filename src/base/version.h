/* shrike's version, and the QEMU version whose interfaces it follows (QMP
 * replies, the command line of `shrike qemu`, error messages). */
#ifndef SHRIKE_VERSION_H
#define SHRIKE_VERSION_H

#define SHRIKE_VERSION "0.2.0"
#define QEMU_COMPAT_MAJOR 7
#define QEMU_COMPAT_MINOR 2
#define QEMU_COMPAT_MICRO 0

#endif
