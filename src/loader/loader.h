/*
 * Loaders turn a guest image into a boot plan: the bytes to place in guest
 * RAM and the boot CPU's entry state.  Planning validates everything
 * (headers, sizes, overlaps, addresses outside RAM) before a single byte is
 * copied, so an image is never loaded partly.  The plan is kept by the VM:
 * a reset replays it (boot_plan_commit) to reload the images.
 */
#ifndef SHRIKE_LOADER_H
#define SHRIKE_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/memory.h"
#include "x86/entry.h"

struct acpi_board;

/* Little-endian fields of image headers (any alignment). */
static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }
static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

#define BOOT_MAX_SEGMENTS 64

struct load_segment {
	gpa_t gpa;
	const uint8_t *data;       /* filesz bytes; the rest up to memsz is zeroed */
	uint64_t filesz;
	uint64_t memsz;
	const char *what;          /* for error messages */
	/* SHA-256 of the bytes loaded the first time: a reset loads exactly
	 * those bytes again or refuses (the file may have changed). */
	uint8_t loaded[DIGEST_SIZE];
	bool loaded_set;
};

/* What identifies a file's contents without reading it. */
struct file_id {
	uint64_t dev, ino, size;
	int64_t mtime_sec, mtime_nsec;
};

/*
 * A file mapped read-only (mapped = true), or a buffer (the tests' images).
 *
 * A file the user named is pinned when it is opened: shrike copies it (in
 * the kernel; a reflink where the file system can) into an unlinked
 * private file on disk and maps that, so the bytes it validates are the
 * bytes it loads, at start and at every reset, whatever happens to the
 * user's file later.  The user's file stays open (user_fd) only so that a
 * reset can say that it changed.  A cache entry or memfd that shrike made
 * itself is used as it is.
 */
struct blob {
	const char *path;
	uint8_t *data;
	size_t size;
	bool mapped;
	bool pinned;               /* data is shrike's private copy: it cannot change */
	int fd;                    /* mapped blobs: the file mapped, for pread */
	uint64_t file_off;         /* where data starts in that file */
	int user_fd;               /* the user's file (0 or -1: none) */
	struct file_id id;         /* the user's file when it was opened */
};

struct boot_plan {
	struct load_segment seg[BOOT_MAX_SEGMENTS];
	unsigned nseg;
	/* Buffers the plan allocated (boot info, GDT; a restored plan's
	 * format, note and one name per segment). */
	uint8_t *owned[BOOT_MAX_SEGMENTS + 8];
	unsigned nowned;
	struct entry_state entry;
	bool committed;            /* loaded once: later loads are checked */
	const char *format;        /* "multiboot-elf", "bzImage (boot protocol)", ... */
	uint64_t rsdp;             /* ACPI RSDP address, 0 if none */
	/* A file the plan owns: a bzImage's payload decompressed on the host,
	 * or a restored snapshot's boot images. */
	struct blob vmlinux;
	/* Copies (not owners) of the input files the segments come from; the
	 * caller keeps the files open and mapped while the plan is used. */
	struct blob sources[18];
	bool change_reported[18];
	unsigned nsources;
	char note[256];            /* how the image was prepared (--stats) */
};

enum kernel_boot { KERNEL_BOOT_AUTO, KERNEL_BOOT_PROTOCOL, KERNEL_BOOT_PVH };

struct loader_input {
	struct blob kernel;
	bool force_flat;
	const char *cmdline;       /* may be NULL */
	const char *cmdline_extra; /* Linux: appended (a --linux-profile) */
	enum kernel_boot linux_boot;
	const char *cache_dir;     /* decompressed kernels; NULL: no cache */
	struct blob modules[17];
	const char *module_args[17];
	unsigned nmodules;
	const struct guest_mem *mem;
	unsigned ncpus;
	const struct acpi_board *board;   /* for the ACPI tables; NULL: none */
};

/* Maps a whole file.  Returns 0 or -1 with a message. */
int blob_read(struct blob *b, const char *path, char *err, size_t errlen);
void blob_free(struct blob *b);
/* Lets the kernel drop a mapped blob's pages from shrike's memory: they
 * come back from the page cache when a reset reloads the images. */
void blob_drop_pages(const struct blob *b);

/* Detects the format and plans the boot.  Returns 0, or -1 with a one-line
 * message naming the problem. */
int loader_plan(const struct loader_input *in, struct boot_plan *plan, char *err, size_t errlen);

int multiboot_plan(const struct loader_input *in, struct boot_plan *plan, char *err,
		   size_t errlen);
int flat_plan(const struct loader_input *in, struct boot_plan *plan, char *err, size_t errlen);
bool bzimage_detect(const uint8_t *data, size_t size);

/* ELF (loader/elf.c). */
struct elf_info {
	bool is64;
	uint64_t entry;            /* e_entry (virtual) */
	uint64_t phoff;
	unsigned phentsize, phnum;
	uint64_t end;              /* end of the highest segment (physical) */
	uint64_t entry_paddr;      /* the entry translated through its segment */
	bool entry_found;
};
/* Validates the ELF header and program header table. */
int elf_program_headers(const struct blob *k, struct elf_info *info, char *err, size_t errlen);
/* Plans every PT_LOAD segment at its physical address. */
int elf_plan_segments(const struct loader_input *in, const struct blob *k, struct boot_plan *plan,
		      struct elf_info *info, char *err, size_t errlen);
bool pvh_detect(const uint8_t *data, size_t size);
int bzimage_plan(const struct loader_input *in, struct boot_plan *plan, char *err, size_t errlen);
/* Boots `vmlinux` (the kernel file, or a decompressed payload) via PVH. */
int pvh_plan(const struct loader_input *in, const struct blob *vmlinux, struct boot_plan *plan,
	     char *err, size_t errlen);

/* A bzImage's compressed payload, decompressed on the host (lz4, gzip, xz,
 * zstd, bzip2, lzma) into a mapped file (out), at most max_size bytes; read
 * from or added to the cache under cache_dir (NULL: none) when `valid`
 * (NULL: anything) accepts it.  Returns 0, -2 when there is no payload
 * shrike can decompress (missing, or compressed some other way), or -1
 * (corrupt, too large, ...), with a message. */
int bzimage_decompress(const struct blob *bz, const char *cache_dir, uint64_t max_size,
		       bool (*valid)(const uint8_t *, size_t), struct blob *out, char *note,
		       size_t notelen, char *err, size_t errlen);
/* True if the image carries a valid multiboot v1 header in its first 8 KiB. */
bool multiboot_detect(const uint8_t *data, size_t size);

/* The ACPI tables at ACPI_TABLES_ADDR (sets plan->rsdp).  Not required:
 * silently none where the range is taken or not RAM. */
int plan_acpi(const struct loader_input *in, struct boot_plan *plan, bool required, char *err,
	      size_t errlen);

/* Adds a segment; refuses overlaps and ranges outside RAM. */
int plan_add(struct boot_plan *plan, const struct guest_mem *mem, gpa_t gpa, const void *data,
	     uint64_t filesz, uint64_t memsz, const char *what, char *err, size_t errlen);
/* A zeroed buffer owned by the plan. */
uint8_t *plan_alloc(struct boot_plan *plan, size_t size);

/* Copies every segment into guest RAM (already validated), then drops the
 * source files' pages from shrike's resident memory.  The first commit
 * records what it loaded; a later one (a reset) checks that each source
 * file is still the same file (inode, size, modification time) and that
 * the bytes it loads are those loaded first (SHA-256).  Returns 0, or -1
 * with a one-line message (the guest RAM is then not a bootable image). */
int boot_plan_commit(struct boot_plan *plan, struct guest_mem *mem, char *err, size_t errlen);
void boot_plan_free(struct boot_plan *plan);
/* The bytes segment i loads (filesz of them), from wherever they are. */
int boot_plan_segment_bytes(const struct boot_plan *plan, unsigned i, uint8_t *dst);

#endif
